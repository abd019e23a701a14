"""What the edge's HTTP face gives away: operational endpoints on the admin port only, browser origins from an
allowlist, and no token or query string in its logs. Real HTTP requests against running edges."""

from __future__ import annotations

import aiohttp
import pytest

from services.connection.cors import OriginPolicy
from tests.support.system import System
from tests.support.users import SocketUser

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


async def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers or {}) as response:
        await response.read()
        return response.status, dict(response.headers)


@pytest.mark.parametrize("path", ["/health", "/ready", "/metrics"])
async def test_operational_endpoints_are_served_on_the_admin_port_only(system: System, path: str) -> None:
    edge = system.edges[0]
    assert (await _get(edge.url + path))[0] == 404
    assert (await _get(edge.admin_url + path))[0] == 200


async def test_no_browser_origin_is_allowed_by_default(system: System) -> None:
    url = system.edges[0].url + HANDSHAKE
    for origin in ("https://evil.example", "null", system.edges[0].url):
        assert (await _get(url, {"Origin": origin}))[0] == 400, origin
    status, headers = await _get(url)  # SDKs and backends send no Origin
    assert status == 200
    assert "Access-Control-Allow-Origin" not in headers and "Access-Control-Allow-Credentials" not in headers


async def test_only_listed_origins_are_allowed(make_system) -> None:
    system = await make_system(edges=1, env={"SWITCHBOARD_CORS_ALLOWED_ORIGINS": "https://app.example"})
    url = system.edges[0].url + HANDSHAKE
    status, headers = await _get(url, {"Origin": "https://app.example"})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    for origin in ("https://evil.example", "null", "https://app.example.evil.example"):
        assert (await _get(url, {"Origin": origin}))[0] == 400, origin


def test_a_wildcard_never_comes_with_credentials_nor_allows_null() -> None:
    policy = OriginPolicy.parse("*")
    assert policy.allows("https://any.example") and not policy.allows("null") and not policy.allows(None)
    assert policy.engineio_options()["cors_credentials"] is False
    with pytest.raises(ValueError, match="null"):
        OriginPolicy.parse("https://app.example, null")


async def test_no_token_or_query_string_reaches_the_edge_log(system: System) -> None:
    """A client that puts its token in the query string (and in auth) leaves neither in the log, though the
    websocket upgrade is logged."""
    edge, user_id = system.edges[1], 1501
    token = system.token(user_id)
    user = SocketUser(f"{edge.url}/?token={token}&secret=query-secret-1501", user_id, token)
    await user.connect(auth={"token": token})
    assert (await user.register())["success"]
    await user.call("register", {"user_id": user_id, "token": "eyJnot.a.valid-token-1501"})  # refused, logged?
    await user.close()
    log = (system.log_dir / f"{edge.node_id}.log").read_text()
    assert '"WebSocket /socket.io/' in log  # uvicorn's upgrade line is there, without its query string
    for secret in (token, "query-secret-1501", "valid-token-1501"):
        assert secret not in log
