"""The loopback half every push peer shares: a Hypercorn server (HTTP/2 or HTTP/1.1 over TLS, as the real push
services speak) in the test's own event loop, a record of what arrived, and a script of answers to give.

A peer first checks a request the way the real service would (credentials, headers); a request that fails is
answered 403 and kept in ``refused``, never in ``received``, so a test that sees its push in ``received`` knows
it passed those checks. An accepted request gets the next scripted :class:`Reply` (429 with Retry-After, 503,
410 ...) or, with none left, the peer's normal answer."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import hypercorn.asyncio
import hypercorn.config

from switchboard.certs import TlsFiles
from switchboard.runner import free_port, wait_for_port


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    http_version: str  # "2" or "1.1": the APNs peer insists on "2"
    decoded: Any = None  # what the peer made of the body: JSON, a form, a decrypted payload


@dataclasses.dataclass
class Reply:
    status: int
    body: Any = b""  # bytes, or anything JSON-serialisable
    headers: dict[str, str] = dataclasses.field(default_factory=dict)

    def encoded(self) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        headers = dict(self.headers)
        body = self.body
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers.setdefault("content-type", "application/json")
        return body, [(k.lower().encode(), v.encode()) for k, v in headers.items()]


class Refused(Exception):
    """Raised by a peer's ``check`` for a request the real service would refuse; the message is the reason."""

    def __init__(self, reason: str, status: int = 403, body: Any = None) -> None:
        super().__init__(reason)
        self.status = status
        self.body = {"error": reason} if body is None else body


class Peer:
    """Subclasses implement ``check`` (raise :class:`Refused`, or return the decoded body) and ``answer`` (the
    normal reply to an accepted request)."""

    def __init__(self, tls: TlsFiles) -> None:
        self.tls = tls
        self.port = free_port()
        self.received: list[Request] = []
        self.refused: list[tuple[Request, str]] = []
        self._script: collections.deque[Reply] = collections.deque()
        # Cleared, requests wait before they are answered: how a test sees how many a provider has in flight.
        self.gate = asyncio.Event()
        self.gate.set()
        self.in_flight = self.max_in_flight = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def answer_next(self, *replies: Reply) -> None:
        """The next accepted requests get these replies, in order, instead of the normal answer."""
        self._script.extend(replies)

    def settings(self) -> dict[str, str]:
        """The :class:`~services.notifications.providers.settings.PushProviderSettings` fields that point a
        provider at this peer with credentials it accepts."""
        return {"push_provider_ca_file": str(self.tls.ca_file)}

    def env(self) -> dict[str, str]:
        """The same as ``SWITCHBOARD_*`` variables, for a notifications service in a child process."""
        return {f"SWITCHBOARD_{name.upper()}": value for name, value in self.settings().items()}

    def check(self, request: Request) -> Any:
        raise NotImplementedError

    def answer(self, request: Request) -> Reply:
        raise NotImplementedError

    def scriptable(self, request: Request) -> bool:
        """Whether ``answer_next``'s replies apply to this request (a peer's side endpoints opt out)."""
        return True

    async def start(self) -> Peer:
        config = hypercorn.config.Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.certfile, config.keyfile = str(self.tls.cert_file), str(self.tls.key_file)
        config.errorlog = logging.getLogger(f"push_peer.{type(self).__name__}")
        self._task = asyncio.create_task(hypercorn.asyncio.serve(self._app, config,  # type: ignore[arg-type]
                                                                 shutdown_trigger=self._stop.wait))
        await wait_for_port("127.0.0.1", self.port, timeout=10)
        return self

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _app(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                   send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        request = Request(scope["method"], scope["path"], scope["query_string"].decode(),
                          {k.decode().lower(): v.decode() for k, v in scope["headers"]}, body,
                          scope["http_version"])
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await self.gate.wait()
        finally:
            self.in_flight -= 1
        reply = self._handle(request)
        payload, headers = reply.encoded()
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    def _handle(self, request: Request) -> Reply:
        try:
            request.decoded = self.check(request)
        except Refused as refusal:
            self.refused.append((request, str(refusal)))
            return Reply(refusal.status, refusal.body)
        self.received.append(request)
        return self._script.popleft() if self._script and self.scriptable(request) else self.answer(request)
