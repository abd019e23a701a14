"""Static files the edge serves to browsers: the customer widget, the agent console, the JavaScript SDK and
socket.io's browser bundle (:mod:`services.connection.web` mounts them). A small ASGI app of our own rather
than python-engineio's ``static_files``: that one reads a whole file per request and sends no cache headers,
and a mount here must also expose only part of a folder (the SDK's code, not its tests or ``node_modules``).

Safe by construction: a request names a file by path segments that are checked one by one (no ``..``, no
hidden names, no backslash or NUL), the resolved file must still lie inside its mount (a symlink cannot lead
out), only known file types are served, and each gets its exact content type with ``nosniff``. Files are
revalidated on every use (``no-cache`` with an ``ETag``): a deployment's new pages show at the next load, and
an unchanged file costs a 304. They are public, so any origin may load them (``access-control-allow-origin: *``,
never with credentials): a site embedding the widget imports its modules across origins, which browsers fetch in
CORS mode."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# Every static answer: no type sniffing, no referrer leaking a session id in a URL to another site.
COMMON_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
INDEX = "index.html"


@dataclasses.dataclass(frozen=True)
class Mount:
    """URL ``prefix`` (``/widget/``) served from ``directory``; ``only`` limits it to these top-level entries."""

    prefix: str
    directory: Path
    only: frozenset[str] | None = None


async def respond(send: Send, status: int, body: bytes = b"", content_type: str = "text/plain; charset=utf-8",
                  headers: Iterable[tuple[bytes, bytes]] = (), head: bool = False) -> None:
    """One complete HTTP response (``head``: the headers of it only)."""
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
        *COMMON_HEADERS, *headers]})
    await send({"type": "http.response.body", "body": b"" if head else body})


def _segments(relative: str) -> list[str] | None:
    """The path's segments, or None when one could step outside its folder or name a hidden file."""
    parts = relative.split("/")
    for part in parts:
        if not part or part.startswith(".") or "\\" in part or "\x00" in part or ":" in part:
            return None
    return parts


class StaticFiles:
    """GET and HEAD for the files of its mounts; anything else under them answers 404 (or 405 for a method)."""

    def __init__(self, mounts: Iterable[Mount]) -> None:
        # longest prefix first, so a mount inside another's URL space wins
        self._mounts = sorted(mounts, key=lambda m: len(m.prefix), reverse=True)
        self._roots = {m.prefix: m.directory.resolve() for m in self._mounts}

    def handles(self, path: str) -> bool:
        return any(path.startswith(m.prefix) or path == m.prefix.rstrip("/") for m in self._mounts)

    def resolve(self, path: str) -> Path | None:
        """The file a URL path names, or None (not under a mount, a forbidden segment, outside its mount, not
        a file, not a served type)."""
        for mount in self._mounts:
            if not path.startswith(mount.prefix):
                continue
            relative = path[len(mount.prefix):] or INDEX
            if relative.endswith("/"):
                relative += INDEX
            parts = _segments(relative)
            if parts is None or (mount.only is not None and parts[0] not in mount.only):
                return None
            root = self._roots[mount.prefix]
            candidate = root.joinpath(*parts).resolve()
            if not candidate.is_relative_to(root) or not candidate.is_file():
                return None
            return candidate if candidate.suffix in CONTENT_TYPES else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method = scope["method"]
        if method not in ("GET", "HEAD"):
            await respond(send, 405, b"method not allowed\n", headers=[(b"allow", b"GET, HEAD")])
            return
        head = method == "HEAD"
        if any(path == m.prefix.rstrip("/") for m in self._mounts):  # /widget → /widget/
            await respond(send, 301, headers=[(b"location", (path + "/").encode())], head=head)
            return
        file = self.resolve(path)
        if file is None:
            await respond(send, 404, b"not found\n", head=head)
            return
        body = await asyncio.to_thread(file.read_bytes)  # pages and modules are small; the loop never waits on disk
        etag = b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'
        headers = [(b"cache-control", b"no-cache"), (b"etag", etag), (b"access-control-allow-origin", b"*")]
        if etag in _header(scope, b"if-none-match"):
            await send({"type": "http.response.start", "status": 304, "headers": [*COMMON_HEADERS, *headers]})
            await send({"type": "http.response.body", "body": b""})
            return
        await respond(send, 200, body, CONTENT_TYPES[file.suffix], headers, head=head)


def _header(scope: Scope, name: bytes) -> bytes:
    return b",".join(value for key, value in scope.get("headers", ()) if key.lower() == name)
