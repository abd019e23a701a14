"""Keeping one client connected: connect, register, run the link until it drops, back off, repeat.

Reconnecting is done here rather than by socket.io so that backoff, token refresh and re-registration (same
``connection_id`` and ``device_id``) happen in one place. What a new link means for the rest of the client
(send the queue, resume gap fills, route pushed messages) is the :class:`LinkListener`'s business, so this
module knows nothing about messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import platform
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import socketio

from client.backoff import Backoff
from client.config import ClientConfig
from client.errors import ClientClosedError, NotConnectedError, SDKError, error_from_reply
from client.link import Link
from client.runtime import Runtime
from client.status import ConnectionStatus

log = logging.getLogger(__name__)

SDK_VERSION = "0.1.0"

TokenProvider = Callable[[], "str | Awaitable[str]"]


def server_urls(server_url: str | Sequence[str]) -> tuple[str, ...]:
    """One edge URL or several (tried in turn): always a non-empty tuple."""
    urls = (server_url,) if isinstance(server_url, str) else tuple(server_url)
    if not urls or not all(isinstance(u, str) and u for u in urls):
        raise ValueError(f"server_url must be a URL or a non-empty sequence of URLs, not {server_url!r}")
    return urls


def default_device_info() -> dict[str, str]:
    return {
        "device_name": platform.node() or "unknown", "device_type": "desktop", "platform": platform.system(),
        "browser": "switchboard-python-sdk", "os_version": platform.release(), "app_version": SDK_VERSION,
    }


class _Fatal(SDKError):
    """A failure that retrying cannot fix (a rejected token without a token provider)."""

    def __init__(self, cause: Exception) -> None:
        self.cause = cause
        super().__init__(str(cause))


class LinkListener(Protocol):
    """What the connection tells the rest of the client. Called on the loop."""

    def starting(self, user_id: int) -> None:
        """Before the first attempt of a ``connect()``; the user is known from here on."""

    def link_up(self) -> None:
        """A link is registered and current."""

    def new_message(self, data: Any) -> None:
        """A ``new_message`` pushed on the current link (or on a link not yet known dead)."""

    def message_status(self, data: Any) -> None:
        """A ``message_status`` (ticks of a message this user sent)."""


class Connection:
    """Identity, status and the supervised link of one client. ``status`` may be read from any thread."""

    def __init__(self, urls: Sequence[str], config: ClientConfig, runtime: Runtime, backoff: Backoff,
                 listener: LinkListener) -> None:
        self.urls = tuple(urls)
        self._url_index = 0
        self.config = config
        self.backoff = backoff
        self.status = ConnectionStatus.DISCONNECTED  # read from any thread: a plain attribute swap
        self.connection_id = str(uuid.uuid4())
        self.user_id: int | None = None
        self.device_id: str | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.link: Link | None = None  # the current link, registered or about to be
        self.closing = True  # no (more) reconnecting: before connect(), after disconnect() or a kick
        self._runtime = runtime
        self._listener = listener
        self._token: str | None = None
        self._token_provider: TokenProvider | None = None
        self._device_info: dict[str, Any] = {}
        self._supervisor: asyncio.Task[None] | None = None
        self._close_evt: asyncio.Event | None = None
        self._connected_evt: asyncio.Event | None = None
        self._fatal: Exception | None = None

    @property
    def server_url(self) -> str:
        """The edge the current (or next) attempt goes to."""
        return self.urls[self._url_index]

    def _next_url(self) -> None:
        """Each retry goes to the next edge: after a failed attempt or a drop, another edge may be up while this
        one restarts."""
        self._url_index = (self._url_index + 1) % len(self.urls)

    def _set_status(self, status: ConnectionStatus) -> None:
        if status != self.status:
            log.info("status %s → %s", self.status, status)
            self.status = status
            self._runtime.emit("status_change", status)

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self, user_id: int, token: str | None, device_id: str | None,
                    device_info: dict[str, Any] | None, token_provider: TokenProvider | None) -> None:
        """Begin connecting (and keep reconnecting); returns at once."""
        if self._supervisor is not None and not self._supervisor.done():
            raise SDKError("already connected or connecting; call disconnect() first")
        if token is None and token_provider is None:
            raise ValueError("a token or a token_provider is required")
        self.loop = asyncio.get_running_loop()
        self.user_id, self._token, self._token_provider = user_id, token, token_provider
        self.device_id = device_id or self.device_id or str(uuid.uuid4())
        self._device_info = {**default_device_info(), **(device_info or {})}
        self.closing, self._fatal = False, None
        self._close_evt, self._connected_evt = asyncio.Event(), asyncio.Event()
        self._listener.starting(user_id)
        self.backoff.reset()
        self._supervisor = self._runtime.spawn(self._supervise())

    async def wait_connected(self, timeout: float | None) -> bool:
        """True once registered; False on timeout (still trying); raises what made the client give up."""
        if self._connected_evt is None or self._supervisor is None:
            raise ClientClosedError("connect() was not called")
        waiter = asyncio.ensure_future(self._connected_evt.wait())
        try:
            await asyncio.wait({waiter, self._supervisor}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if self.link is not None and self.link.alive:
            return True
        if self._supervisor.done():
            raise self._fatal or ClientClosedError("the client stopped connecting")
        return False

    async def reconnected(self) -> None:
        """Until a link is registered (at once if one is): for work that can only wait for the connection."""
        if self._connected_evt is not None:
            await self._connected_evt.wait()

    async def wait_link(self, timeout: float) -> Link:
        """The live link, waiting up to ``timeout`` for one: requests made while reconnecting still go out."""
        if self.link is not None and self.link.alive:
            return self.link
        if self.closing or self._connected_evt is None:
            raise ClientClosedError("not connected; call connect()")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected_evt.wait(), timeout)
        if self.link is None or not self.link.alive:
            raise NotConnectedError(f"no connection within {timeout}s")
        return self.link

    async def stop(self) -> None:
        """The application's disconnect: no reconnect, and every background task of the client ends."""
        self.closing = True
        if self._close_evt is not None:
            self._close_evt.set()
        if self.link is not None:
            self.link.drop("client disconnect")
        if self._supervisor is not None and not self._supervisor.done():
            # A connect or register in progress is not interrupted by the close event: cancel it.
            done, _ = await asyncio.wait({self._supervisor}, timeout=1.0)
            if not done:
                self._supervisor.cancel()
            with contextlib.suppress(BaseException):
                await self._supervisor
        self._runtime.cancel_tasks()
        self._set_status(ConnectionStatus.DISCONNECTED)

    async def _sleep(self, delay: float) -> None:
        """Sleep that a disconnect() cuts short."""
        assert self._close_evt is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._close_evt.wait(), delay)

    async def _supervise(self) -> None:
        """Connect, run the link until it drops, back off, repeat — until disconnect(), a kick, or a fatal
        error."""
        first = True
        self._set_status(ConnectionStatus.CONNECTING)
        try:
            while not self.closing:
                if not first:
                    delay = self.backoff.next_delay()
                    if delay is None:
                        self._fatal = NotConnectedError(f"gave up after {self.backoff.attempt} attempts")
                        self._runtime.emit("error", self._fatal)
                        return
                    self._next_url()
                    log.info("reconnecting to %s in %.2fs (attempt %d)", self.server_url, delay,
                             self.backoff.attempt)
                    await self._sleep(delay)
                    if self.closing:
                        return
                first = False
                try:
                    link = await self._open_link()
                except _Fatal as exc:
                    log.error("giving up: %s", exc.cause)
                    self._fatal = exc.cause
                    self._runtime.emit("error", exc.cause)
                    return
                except Exception as exc:
                    log.warning("connect to %s failed: %r", self.server_url, exc)
                    self._runtime.emit("error", exc)
                    continue
                await self._run_link(link)
                if not (self.closing or link.kicked is not None):
                    self._set_status(ConnectionStatus.RECONNECTING)
                self._runtime.emit("disconnect", link.reason)
        finally:
            self._set_status(ConnectionStatus.DISCONNECTED)

    async def _token_now(self) -> str:
        """Ask the token provider (if any) for a fresh token; a blocking provider runs in a worker thread."""
        provider = self._token_provider
        if provider is None:
            assert self._token is not None
            return self._token
        if inspect.iscoroutinefunction(provider):
            token = await provider()
        else:
            token = await asyncio.to_thread(provider)
            if inspect.isawaitable(token):
                token = await token
        self._token = str(token)
        return self._token

    async def _open_link(self) -> Link:
        try:
            token = await self._token_now()
        except Exception as exc:
            raise ConnectionError(f"token provider failed: {exc!r}") from exc
        sio = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
        link = Link(sio, self.connection_id, self.config)
        self._bind(link)
        try:
            await sio.connect(self.server_url, auth={"token": token}, transports=self.config.transports,
                              wait_timeout=self.config.connect_timeout)
            reply = await link.call("register", {
                "user_id": self.user_id, "token": token, "connection_id": self.connection_id,
                "device_id": self.device_id, "device_info": self._device_info,
            }, self.config.request_timeout)
        except BaseException:
            link.drop("connect failed")
            await link.close()
            raise
        if not (isinstance(reply, dict) and reply.get("success")):
            err = error_from_reply(reply)
            link.drop(f"register refused: {err}")
            await link.close()
            if err.code in ("FORBIDDEN", "INVALID_ARGUMENT") or (
                    err.code == "UNAUTHENTICATED" and self._token_provider is None):
                raise _Fatal(err)
            raise err
        link.registered = True
        hint = reply.get("heartbeat_interval")
        if isinstance(hint, int | float) and hint > 0:
            link.server_heartbeat = float(hint)
        log.info("registered user %s device %s connection %s (socket %s)", self.user_id, self.device_id,
                 self.connection_id, reply.get("socket_id"))
        return link

    async def _run_link(self, link: Link) -> None:
        assert self._connected_evt is not None
        self.link = link
        self.backoff.connected()
        self._set_status(ConnectionStatus.CONNECTED)
        self._connected_evt.set()
        self._runtime.emit("connect")
        heartbeat = self._runtime.spawn(link.heartbeat())
        self._listener.link_up()
        try:
            await link.dropped.wait()
        finally:
            log.info("connection lost: %s", link.reason)
            heartbeat.cancel()
            self._connected_evt.clear()
            self.link = None
            self.backoff.dropped()
            await link.close()

    def _bind(self, link: Link) -> None:
        """socket.io handlers for one link. Each runs synchronously up to its first await, so events are
        judged in arrival order."""
        sio = link.sio
        emit = self._runtime.emit

        @sio.on("disconnect")
        def _disconnect(reason: Any = None) -> None:
            link.drop(f"disconnected ({reason})" if reason else "disconnected")

        @sio.on("connected")
        def _connected(data: Any = None) -> None:
            log.debug("server says connected: %s", data)

        @sio.on("new_message")
        def _new_message(data: Any = None) -> None:
            if link is self.link or not link.dropped.is_set():
                self._listener.new_message(data)

        @sio.on("message_status")
        def _message_status(data: Any = None) -> None:
            self._listener.message_status(data)

        @sio.on("typing")
        def _typing(data: Any = None) -> None:
            emit("typing", data)

        @sio.on("session_updated")
        def _session_updated(data: Any = None) -> None:
            emit("session_updated", data)

        @sio.on("kicked")
        def _kicked(data: Any = None) -> None:
            log.warning("kicked: %s", data)
            link.kicked = data if isinstance(data, dict) else {"reason": str(data)}
            self.closing = True  # a kick ends the client's session like disconnect() does
            emit("kicked", link.kicked)
            link.drop("kicked")
