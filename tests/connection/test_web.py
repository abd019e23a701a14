"""The edge's plain-HTTP face: the pages and their assets with exact content types and revalidation, nothing
outside the mounts (traversal tried on the wire, not through a client that normalizes paths), static serving
that can be turned off, and the development token endpoint: absent unless enabled, then a working token."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from pathlib import Path

import aiohttp
import pytest

from services.connection.dev_token import RATE, DevTokens, refusal
from services.connection.settings import Settings
from services.connection.static import Mount, StaticFiles
from switchboard.settings import load
from tests.support.system import JWT_SECRET, System
from tests.support.users import SocketUser

ROOT = Path(__file__).resolve().parents[2]


async def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Mapping[str, str], bytes]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers or {}, allow_redirects=False) as r:
        return r.status, r.headers.copy(), await r.read()  # header names stay case-insensitive


async def _raw_status(port: int, target: str) -> int:
    """The status of ``GET <target>`` sent byte for byte (clients normalize ``..`` away before sending)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


async def _post_token(url: str, body: object, content_type: str = "application/json") -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http, http.post(
            url + "/dev/token", data=json.dumps(body), headers={"content-type": content_type}) as r:
        text = await r.text()
        return r.status, json.loads(text) if r.content_type == "application/json" else {"body": text}


@pytest.mark.parametrize(("path", "content_type"), [
    ("/widget/", "text/html; charset=utf-8"),
    ("/console/", "text/html; charset=utf-8"),
    ("/shared/style.css", "text/css; charset=utf-8"),
    ("/vendor/socket.io.esm.min.js", "text/javascript; charset=utf-8"),
])
async def test_pages_and_assets_are_served_with_their_type_and_revalidated(
        system: System, path: str, content_type: str) -> None:
    url = system.edges[0].url + path
    status, headers, body = await _get(url)
    assert status == 200 and body
    assert headers["Content-Type"] == content_type
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["Cache-Control"] == "no-cache"
    assert headers["Access-Control-Allow-Origin"] == "*"  # public files: another site may import the modules
    assert "Access-Control-Allow-Credentials" not in headers
    again, _, empty = await _get(url, {"If-None-Match": headers["ETag"]})
    assert again == 304 and empty == b""


async def test_a_mount_without_its_slash_redirects_and_other_paths_are_not_found(system: System) -> None:
    edge = system.edges[0]
    status, headers, _ = await _get(edge.url + "/widget")
    assert status == 301 and headers["Location"] == "/widget/"
    for path in ("/", "/web/widget/index.html", "/widget/nope.html", "/shared/", "/dev/token"):
        assert (await _get(edge.url + path))[0] == 404, path
    async with aiohttp.ClientSession() as http, http.post(edge.url + "/widget/index.html") as r:
        assert r.status == 405


@pytest.mark.parametrize("target", [
    "/widget/../../pyproject.toml",
    "/widget/%2e%2e/%2e%2e/pyproject.toml",
    "/widget/..%2f..%2fpyproject.toml",
    "/widget/..\\..\\pyproject.toml",
    "/vendor/../../.git/config",
    "/sdk/package.json",  # the SDK mount exposes its code only
    "/sdk/node_modules/socket.io-client/package.json",
    "/sdk/.gitignore",
    "/widget/%00index.html",
])
async def test_nothing_outside_the_mounts_is_served(system: System, target: str) -> None:
    assert await _raw_status(system.edges[0].port, target) in (400, 404), target


def test_a_symlink_cannot_lead_out_of_its_mount(tmp_path: Path) -> None:
    site, secret = tmp_path / "site", tmp_path / "secret.js"
    site.mkdir()
    secret.write_text("secret")
    (site / "app.js").write_text("ok")
    (site / "leak.js").symlink_to(secret)
    (site / "notes.txt").write_text("not a served type")
    files = StaticFiles([Mount("/x/", site)])
    assert files.resolve("/x/app.js") == (site / "app.js").resolve()
    assert files.resolve("/x/leak.js") is None and files.resolve("/x/notes.txt") is None


def test_the_vendored_socket_io_bundle_is_the_version_the_sdk_locks() -> None:
    """web/vendor is committed (an edge serves working pages without Node); scripts/setup-browser refreshes it."""
    banner = (ROOT / "web/vendor/socket.io.esm.min.js").read_text()[:200]
    vendored = re.search(r"Socket\.IO v(\S+)", banner)
    lock = json.loads((ROOT / "sdk/js/package-lock.json").read_text())
    assert vendored and vendored.group(1) == lock["packages"]["node_modules/socket.io-client"]["version"]


async def test_the_token_endpoint_is_rate_limited() -> None:
    endpoint = DevTokens(JWT_SECRET, 60)
    body = json.dumps({"user_id": 1}).encode()
    statuses = []
    burst = int(RATE.burst)
    for _ in range(burst + 20):  # the bucket refills meanwhile, by far less than 20 tokens
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict, sent: list[dict] = sent) -> None:
            sent.append(message)

        await endpoint({"type": "http", "method": "POST", "path": "/dev/token",
                        "headers": [(b"content-type", b"application/json")]}, receive, send)
        statuses.append(sent[0]["status"])
    assert statuses[:burst] == [200] * burst and 429 in statuses[burst:]


def test_the_token_endpoint_runs_only_on_loopback_with_an_hs256_secret() -> None:
    def settings(**env: str) -> Settings:
        return load(Settings, {"SWITCHBOARD_DEV_TOKEN_ENDPOINT": "true", "SWITCHBOARD_JWT_SECRET": JWT_SECRET,
                               **env})

    assert refusal(settings()) is None
    assert refusal(load(Settings, {"SWITCHBOARD_BIND_HOST": "0.0.0.0"})) is None  # off: nothing to refuse
    assert "loopback" in (refusal(settings(SWITCHBOARD_BIND_HOST="0.0.0.0")) or "")
    assert "HS256" in (refusal(settings(SWITCHBOARD_JWT_PUBLIC_KEY="-----BEGIN PUBLIC KEY-----")) or "")


async def test_the_token_endpoint_is_off_by_default(system: System) -> None:
    status, _ = await _post_token(system.edges[0].url, {"user_id": 77, "role": "admin"})
    assert status == 404


async def test_enabled_the_token_endpoint_mints_working_tokens_and_static_serving_can_be_off(make_system) -> None:
    system = await make_system(edges=1, env={"SWITCHBOARD_DEV_TOKEN_ENDPOINT": "true",
                                             "SWITCHBOARD_WEB_STATIC": "false"})
    edge = system.edges[0]
    assert (await _get(edge.url + "/widget/"))[0] == 404
    status, reply = await _post_token(edge.url, {"user_id": "4242", "role": "agent"})
    assert status == 200 and reply["success"] and reply["user_id"] == 4242 and reply["role"] == "agent", reply
    user = SocketUser(edge.url, 4242, reply["token"])
    try:
        await user.join()  # connects and registers with the minted token; fails loudly otherwise
    finally:
        await user.close()
    for body, content_type, code in (({"user_id": 1, "role": "root"}, "application/json", "INVALID_ARGUMENT"),
                                     ({"role": "user"}, "application/json", "INVALID_ARGUMENT"),
                                     ({"user_id": 1}, "text/plain", "INVALID_ARGUMENT"),
                                     ({"user_id": 1, "pad": "x" * 2000}, "application/json", "PAYLOAD_TOO_LARGE")):
        status, reply = await _post_token(edge.url, body, content_type)
        assert status in (400, 413) and reply["error"]["code"] == code, (body, reply)
    assert "development token endpoint ON" in (system.log_dir / f"{edge.node_id}.log").read_text()
