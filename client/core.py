"""The SDK's one implementation: connection supervision, heartbeats, the send queue, receipts, dedup, gap fill.

Everything here runs on one asyncio event loop (the application's for :class:`AsyncWebSocketClient`, the SDK's
own background thread for :class:`WebSocketClient`); the two faces only translate calls. The few entry points
used from other threads (:meth:`ClientCore.enqueue`, reading :attr:`ClientCore.status`) say so.

A *link* is one socket.io connection attempt with its own ``socketio.AsyncClient`` (``reconnection=False``:
reconnecting is ours, so backoff, token refresh, re-registration and the send queue are coordinated in one
place). Handlers are bound to their link, so a late event of a dead link cannot disturb its successor.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import logging
import platform
import random
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import socketio

from client.backoff import Backoff
from client.dispatch import Callback, Dispatcher
from client.errors import (
    ClientClosedError,
    ConnectionLostError,
    NotConnectedError,
    RequestError,
    SDKError,
    SendFailedError,
    error_from_reply,
)
from client.outbox import Outbox, OutboxEntry
from client.status import ConnectionStatus
from client.tracker import Message, SequenceTracker

log = logging.getLogger(__name__)

SDK_VERSION = "0.1.0"

TokenProvider = Callable[[], "str | Awaitable[str]"]

#: The events an application can subscribe to (``on_<name>``), with the callback's arguments.
EVENTS = {
    "connect": "()",
    "disconnect": "(reason: str)",
    "message": "(message: dict)",
    "status_change": "(status: ConnectionStatus)",
    "message_status": "(status: dict)",
    "typing": "(typing: dict)",
    "session_updated": "(session: dict)",
    "kicked": "(kick: dict)",
    "error": "(error: Exception)",
    "send_failed": "(message: dict, error: RequestError)",
    "message_sent": "(message: dict, ack: dict)",
}


@dataclasses.dataclass
class ClientConfig:
    """Tunables. The faces expose each as a read/write attribute; changes apply from the next use."""

    heartbeat_interval: float = 30.0
    heartbeat_timeout: float = 10.0  # an ack slower than this means the connection is dead
    retry_interval: float = 5.0  # backoff base
    max_retry_interval: float = 60.0  # backoff cap
    max_retries: int | None = None  # consecutive failed attempts before giving up; None: never give up
    max_queue_size: int = 100  # unacknowledged messages in the outbox
    request_timeout: float = 10.0  # ack timeout of request events, and how long a request waits for a link
    send_timeout: float = 10.0  # ack timeout of send_message before the message is sent again
    connect_timeout: float = 10.0  # socket.io connect handshake
    auto_ack_delivered: bool = True
    gap_timeout: float = 1.0  # how long a held-back message waits for its predecessor's push before sync
    sync_limit: int = 200
    transports: list[str] = dataclasses.field(default_factory=lambda: ["websocket"])
    permanent_error_codes: frozenset[str] = frozenset({"FORBIDDEN", "INVALID_ARGUMENT", "NOT_FOUND"})


class _Fatal(SDKError):
    """A failure that retrying cannot fix (a rejected token without a token provider)."""

    def __init__(self, cause: Exception) -> None:
        self.cause = cause
        super().__init__(str(cause))


class _Link:
    """One socket.io connection and what belongs to it."""

    def __init__(self, sio: socketio.AsyncClient) -> None:
        self.sio = sio
        self.dropped = asyncio.Event()
        self.reason = ""
        self.registered = False
        self.kicked: dict[str, Any] | None = None
        self.server_heartbeat: float | None = None  # the interval the server expects (register reply)

    @property
    def alive(self) -> bool:
        return self.registered and not self.dropped.is_set()

    def drop(self, reason: str) -> None:
        if not self.dropped.is_set():
            self.reason = reason
            self.dropped.set()

    async def call(self, event: str, data: Any, timeout: float) -> Any:
        """``sio.call`` that gives up as soon as the link drops (``sio.call`` would wait out its timeout)."""
        if self.dropped.is_set():
            raise ConnectionLostError(f"connection lost ({self.reason})")
        call = asyncio.ensure_future(self.sio.call(event, data, timeout=timeout))
        drop = asyncio.ensure_future(self.dropped.wait())
        try:
            await asyncio.wait({call, drop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            drop.cancel()
        if not call.done():
            call.cancel()
            raise ConnectionLostError(f"connection lost ({self.reason})")
        try:
            return call.result()
        except socketio.exceptions.TimeoutError:
            raise TimeoutError(f"no ack for {event} within {timeout}s") from None
        except socketio.exceptions.SocketIOError as exc:
            raise ConnectionLostError(f"{event}: {exc}") from exc

    async def close(self) -> None:
        # A half-open TCP connection may never complete the close handshake: do not wait for it long.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sio.disconnect(), 2)


def default_device_info() -> dict[str, str]:
    return {
        "device_name": platform.node() or "unknown", "device_type": "desktop", "platform": platform.system(),
        "browser": "switchboard-python-sdk", "os_version": platform.release(), "app_version": SDK_VERSION,
    }


class ClientCore:
    """State and behaviour of one client. Not thread-safe except where a method says so."""

    def __init__(self, server_url: str, config: ClientConfig, dispatcher: Dispatcher,
                 queue_path: str | Path | None = None) -> None:
        self.server_url = server_url
        self.config = config
        self.dispatcher = dispatcher
        self.callbacks: dict[str, list[Callback]] = defaultdict(list)
        self.outbox = Outbox(lambda: self.config.max_queue_size, queue_path)
        self.tracker = SequenceTracker()
        self.backoff = Backoff(lambda: self.config.retry_interval, lambda: self.config.max_retry_interval,
                               lambda: self.config.max_retries)
        self.status = ConnectionStatus.DISCONNECTED  # read from any thread: a plain attribute swap
        self.connection_id = str(uuid.uuid4())
        self.user_id: int | None = None
        self.device_id: str | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._token: str | None = None
        self._token_provider: TokenProvider | None = None
        self._device_info: dict[str, Any] = {}
        self._link: _Link | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = True
        self._close_evt: asyncio.Event | None = None
        self._connected_evt: asyncio.Event | None = None
        self._fatal: Exception | None = None
        self._ack_ids: list[Any] = []
        self._ack_flush: asyncio.Task[None] | None = None
        self._gap_tasks: dict[str, asyncio.Task[None]] = {}
        self._pump_timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- callbacks -----------------------------------------------------------------------------------------

    def add_callback(self, event: str, fn: Callback) -> Callback:
        """Thread-safe enough: appending to a list is atomic; callbacks are registered before connect()."""
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; one of {sorted(EVENTS)}")
        self.callbacks[event].append(fn)
        return fn

    def _emit(self, event: str, *args: Any) -> None:
        for fn in list(self.callbacks.get(event, ())):
            self.dispatcher.submit(fn, *args)

    def _set_status(self, status: ConnectionStatus) -> None:
        if status != self.status:
            log.info("status %s → %s", self.status, status)
            self.status = status
            self._emit("status_change", status)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """A task kept referenced until done (the loop keeps only weak references)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def start(self, user_id: int, token: str | None, device_id: str | None,
                    device_info: dict[str, Any] | None, token_provider: TokenProvider | None) -> None:
        """Begin connecting (and keep reconnecting); returns at once. Restores the persisted outbox."""
        if self._supervisor is not None and not self._supervisor.done():
            raise SDKError("already connected or connecting; call disconnect() first")
        if token is None and token_provider is None:
            raise ValueError("a token or a token_provider is required")
        self.loop = asyncio.get_running_loop()
        self.user_id, self._token, self._token_provider = user_id, token, token_provider
        self.device_id = device_id or self.device_id or str(uuid.uuid4())
        self._device_info = {**default_device_info(), **(device_info or {})}
        self._closing, self._fatal = False, None
        self._close_evt, self._connected_evt = asyncio.Event(), asyncio.Event()
        self.outbox.claim(user_id)
        self.outbox.load(user_id)
        self.backoff.reset()
        self._supervisor = self._spawn(self._supervise())

    async def wait_connected(self, timeout: float | None) -> bool:
        """True once registered; False on timeout (still trying); raises what made the client give up."""
        if self._connected_evt is None or self._supervisor is None:
            raise ClientClosedError("connect() was not called")
        waiter = asyncio.ensure_future(self._connected_evt.wait())
        try:
            await asyncio.wait({waiter, self._supervisor}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if self._link is not None and self._link.alive:
            return True
        if self._supervisor.done():
            raise self._fatal or ClientClosedError("the client stopped connecting")
        return False

    async def stop(self) -> None:
        """The application's disconnect: no reconnect; the outbox is kept (and stays on disk)."""
        self._closing = True
        if self._close_evt is not None:
            self._close_evt.set()
        if self._link is not None:
            self._link.drop("client disconnect")
        if self._supervisor is not None and not self._supervisor.done():
            # A connect or register in progress is not interrupted by the close event: cancel it.
            done, _ = await asyncio.wait({self._supervisor}, timeout=1.0)
            if not done:
                self._supervisor.cancel()
            with contextlib.suppress(BaseException):
                await self._supervisor
        for task in [*self._gap_tasks.values(), *self._tasks]:
            task.cancel()
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
            while not self._closing:
                if not first:
                    delay = self.backoff.next_delay()
                    if delay is None:
                        self._fatal = NotConnectedError(f"gave up after {self.backoff.attempt} attempts")
                        self._emit("error", self._fatal)
                        return
                    log.info("reconnecting in %.2fs (attempt %d)", delay, self.backoff.attempt)
                    await self._sleep(delay)
                    if self._closing:
                        return
                first = False
                try:
                    link = await self._open_link()
                except _Fatal as exc:
                    log.error("giving up: %s", exc.cause)
                    self._fatal = exc.cause
                    self._emit("error", exc.cause)
                    return
                except Exception as exc:
                    log.warning("connect to %s failed: %r", self.server_url, exc)
                    self._emit("error", exc)
                    continue
                await self._run_link(link)
                if not (self._closing or link.kicked is not None):
                    self._set_status(ConnectionStatus.RECONNECTING)
                self._emit("disconnect", link.reason)
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

    async def _open_link(self) -> _Link:
        try:
            token = await self._token_now()
        except Exception as exc:
            raise ConnectionError(f"token provider failed: {exc!r}") from exc
        sio = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
        link = _Link(sio)
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

    async def _run_link(self, link: _Link) -> None:
        assert self._connected_evt is not None
        self._link = link
        self.backoff.connected()
        self._set_status(ConnectionStatus.CONNECTED)
        self._connected_evt.set()
        self._emit("connect")
        heartbeat = self._spawn(self._heartbeat(link))
        self._pump()
        for session_id in self.tracker.gaps():
            self._schedule_gap_fill(session_id)
        try:
            await link.dropped.wait()
        finally:
            log.info("connection lost: %s", link.reason)
            heartbeat.cancel()
            self._connected_evt.clear()
            self._link = None
            self.backoff.dropped()
            await link.close()

    def _bind(self, link: _Link) -> None:
        """socket.io handlers for one link. Each runs synchronously up to its first await, so events are
        judged in arrival order."""
        sio = link.sio

        @sio.on("disconnect")
        def _disconnect(reason: Any = None) -> None:
            link.drop(f"disconnected ({reason})" if reason else "disconnected")

        @sio.on("connected")
        def _connected(data: Any = None) -> None:
            log.debug("server says connected: %s", data)

        @sio.on("new_message")
        def _new_message(data: Any = None) -> None:
            if link is self._link or not link.dropped.is_set():
                self._incoming(data)

        @sio.on("message_status")
        def _message_status(data: Any = None) -> None:
            self._emit("message_status", data)

        @sio.on("typing")
        def _typing(data: Any = None) -> None:
            self._emit("typing", data)

        @sio.on("session_updated")
        def _session_updated(data: Any = None) -> None:
            self._emit("session_updated", data)

        @sio.on("kicked")
        def _kicked(data: Any = None) -> None:
            log.warning("kicked: %s", data)
            link.kicked = data if isinstance(data, dict) else {"reason": str(data)}
            self._closing = True  # a kick ends the client's session like disconnect() does
            self._emit("kicked", link.kicked)
            link.drop("kicked")

    # -- heartbeats ----------------------------------------------------------------------------------------

    async def _heartbeat(self, link: _Link) -> None:
        """A missed ack means a dead (often half-open) connection: drop it and reconnect."""
        while not link.dropped.is_set():
            # Never beat less often than the server expects, or it closes us as silent.
            interval = min(self.config.heartbeat_interval, link.server_heartbeat or float("inf"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(link.dropped.wait(), interval)
                return
            if not await self._probe(link):
                return

    async def _probe(self, link: _Link) -> bool:
        """One heartbeat; False (and the link dropped) if it shows the connection is dead."""
        try:
            reply = await link.call("heartbeat", {"connection_id": self.connection_id},
                                    self.config.heartbeat_timeout)
        except TimeoutError:
            log.warning("heartbeat ack missed (%.1fs): treating the connection as dead",
                        self.config.heartbeat_timeout)
            link.drop("heartbeat timeout")
            return False
        except ConnectionLostError:
            return False
        if isinstance(reply, dict) and not reply.get("success"):
            err = error_from_reply(reply)
            if err.code in ("NOT_REGISTERED", "UNAUTHENTICATED"):
                link.drop(f"heartbeat refused: {err}")
                return False
            log.warning("heartbeat refused: %s", err)
        return True

    # -- requests ------------------------------------------------------------------------------------------

    async def _wait_link(self, timeout: float) -> _Link:
        if self._link is not None and self._link.alive:
            return self._link
        if self._closing or self._connected_evt is None:
            raise ClientClosedError("not connected; call connect()")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected_evt.wait(), timeout)
        if self._link is None or not self._link.alive:
            raise NotConnectedError(f"no connection within {timeout}s")
        return self._link

    async def request(self, event: str, data: Any, timeout: float | None = None) -> dict[str, Any]:
        """Send one event and return the successful reply; waits up to ``timeout`` for a connection."""
        timeout = self.config.request_timeout if timeout is None else timeout
        link = await self._wait_link(timeout)
        reply = await link.call(event, data, timeout)
        if not (isinstance(reply, dict) and reply.get("success")):
            raise error_from_reply(reply)
        return reply

    async def open_session(self, timeout: float | None = None) -> dict[str, Any]:
        reply = await self.request("open_session", {}, timeout)
        self._baseline_from(reply)
        return reply

    async def join_session(self, session_id: str, timeout: float | None = None) -> dict[str, Any]:
        reply = await self.request("join_session", {"session_id": session_id}, timeout)
        self._baseline_from(reply)
        return reply

    def _baseline_from(self, reply: dict[str, Any]) -> None:
        """A reply that names the session's last sequence tells where "new" starts for that session."""
        session = reply.get("session") if isinstance(reply.get("session"), dict) else reply
        last = session.get("last_sequence")
        if reply.get("session_id") and isinstance(last, int):
            self.tracker.baseline(reply["session_id"], last)

    async def sync(self, session_id: str, after_sequence: int | None = None, limit: int = 100,
                   timeout: float | None = None) -> dict[str, Any]:
        """Raw ``sync``: the application's history fetch. Does not touch dedup or ordering state."""
        if after_sequence is None:
            after_sequence = 0
        return await self.request("sync", {"session_id": session_id, "after_sequence": after_sequence,
                                           "limit": min(limit, 200)}, timeout)

    @staticmethod
    def _receipt(message_id: Any, message_ids: list[Any] | None, user_id: int | None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"user_id": user_id, **(extra or {})}
        if message_ids is not None:
            body["message_ids"] = list(message_ids)
        elif message_id is not None:
            body["message_id"] = message_id
        return body

    async def send_delivered(self, message_id: Any = None, user_id: int | None = None,
                             message_ids: list[Any] | None = None) -> dict[str, Any]:
        return await self.request("message_delivered",
                                  self._receipt(message_id, message_ids, user_id or self.user_id))

    async def send_read(self, message_id: Any = None, user_id: int | None = None,
                        message_ids: list[Any] | None = None, session_id: str | None = None,
                        up_to_sequence: int | None = None) -> dict[str, Any]:
        extra = ({"session_id": session_id, "up_to_sequence": up_to_sequence}
                 if session_id is not None and up_to_sequence is not None else None)
        return await self.request("message_read",
                                  self._receipt(message_id, message_ids, user_id or self.user_id, extra))

    # -- incoming messages ---------------------------------------------------------------------------------

    def _incoming(self, data: Any) -> None:
        """Every ``new_message``, live, offline or from a gap-filling sync: acknowledge, dedup, order."""
        if not isinstance(data, dict):
            log.warning("ignoring malformed new_message: %r", data)
            return
        if (self.config.auto_ack_delivered and data.get("id") is not None
                and data.get("from_user_id") != self.user_id):
            self._ack_later(data["id"])
        verdict = self.tracker.receive(data)
        log.debug("incoming message %s (session %s seq %s offline %s): pass on %d%s%s", data.get("id"),
                  data.get("session_id"), data.get("sequence_number"), data.get("offline"), len(verdict.deliver),
                  ", duplicate" if verdict.duplicate else "", ", gap" if verdict.gap else "")
        if verdict.duplicate:
            log.debug("duplicate message %s dropped", data.get("id"))
        self._deliver(verdict.deliver)
        if verdict.gap:
            self._schedule_gap_fill(data["session_id"])

    def _deliver(self, messages: list[Message]) -> None:
        for msg in messages:
            self._emit("message", msg)

    def _ack_later(self, message_id: Any) -> None:
        """Batch delivered receipts: after a reconnect the offline push brings many messages at once."""
        self._ack_ids.append(message_id)
        if self._ack_flush is None or self._ack_flush.done():
            self._ack_flush = self._spawn(self._flush_acks())

    async def _flush_acks(self) -> None:
        await asyncio.sleep(0)  # let the messages that arrived in the same burst join the batch
        while self._ack_ids:
            ids, self._ack_ids = list(dict.fromkeys(self._ack_ids)), []
            try:
                # Offline pushes can arrive before the register ack: wait for the link to be in place.
                link = await self._wait_link(self.config.request_timeout)
            except NotConnectedError:
                # The server pushes unacknowledged messages again at the next register; we ack them then.
                self._ack_ids.clear()
                return
            try:
                body = self._receipt(ids[0] if len(ids) == 1 else None, ids if len(ids) > 1 else None,
                                     self.user_id)
                reply = await link.call("message_delivered", body, self.config.request_timeout)
                if isinstance(reply, dict) and not reply.get("success"):
                    log.warning("delivered receipt for %s refused: %s", ids, error_from_reply(reply))
            except (TimeoutError, ConnectionLostError) as exc:
                log.info("delivered receipt for %d message(s) not acknowledged: %s", len(ids), exc)

    def _schedule_gap_fill(self, session_id: str) -> None:
        if session_id not in self._gap_tasks and not self._closing:
            self._gap_tasks[session_id] = self._spawn(self._fill_gap(session_id))

    async def _fill_gap(self, session_id: str) -> None:
        """Wait briefly for the missing push, then sync from the watermark until the hole closes. A hole the
        server cannot fill either is skipped (logged), so one lost message never stalls a session."""
        try:
            await asyncio.sleep(self.config.gap_timeout)
            while self.tracker.has_gap(session_id) and not self._closing:
                after = self.tracker.last(session_id)
                log.info("sequence gap in %s after %s: syncing", session_id, after)
                try:
                    reply = await self.sync(session_id, after, self.config.sync_limit)
                except (NotConnectedError, TimeoutError) as exc:
                    log.info("gap fill in %s waits for the connection: %s", session_id, exc)
                    if self._connected_evt is not None:
                        await self._connected_evt.wait()
                    continue
                except RequestError as exc:
                    log.warning("sync of %s refused (%s); passing held messages on", session_id, exc)
                    self._deliver(self.tracker.release(session_id))
                    return
                for msg in reply.get("messages") or []:
                    self._incoming(msg)
                if self.tracker.last(session_id) == after and self.tracker.has_gap(session_id):
                    log.warning("sync could not fill the gap in %s after %s; skipping it", session_id, after)
                    self._deliver(self.tracker.release(session_id))
        finally:
            self._gap_tasks.pop(session_id, None)

    # -- the send queue ------------------------------------------------------------------------------------

    def enqueue(self, session_id: str, message: str, role: str, message_type: str,
                reply_to_message_id: int | None, client_msg_id: str | None = None) -> OutboxEntry:
        """Thread-safe: any thread may queue. Persists before returning, then wakes the sender."""
        entry = self.outbox.add(OutboxEntry(
            client_msg_id=client_msg_id or str(uuid.uuid4()), session_id=session_id, message=message, role=role,
            message_type=message_type, reply_to_message_id=reply_to_message_id, user_id=self.user_id))
        loop = self.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop is shutting down; the next connect() sends it
                loop.call_soon_threadsafe(self._pump)
        return entry

    def _pump(self) -> None:
        """Start sending what may be sent: per session, only the oldest unacknowledged message is in flight,
        so a session's messages get their sequence numbers in send order; sessions proceed in parallel."""
        link = self._link
        if link is None or not link.alive:
            return
        assert self.loop is not None
        now = self.loop.time()
        blocked: set[str] = set()
        wake_at: float | None = None
        for entry in self.outbox.pending():
            if entry.session_id in blocked:
                continue
            blocked.add(entry.session_id)
            if entry.in_flight:
                continue
            if entry.not_before > now:
                wake_at = entry.not_before if wake_at is None else min(wake_at, entry.not_before)
                continue
            entry.in_flight = True
            self._spawn(self._send_one(link, entry))
        if wake_at is not None:
            if self._pump_timer is not None:
                self._pump_timer.cancel()
            self._pump_timer = self.loop.call_at(wake_at, self._pump)

    async def _send_one(self, link: _Link, entry: OutboxEntry) -> None:
        """One attempt. The entry stays ``in_flight`` until its outcome is recorded, so the pump cannot start
        a second copy meanwhile; every path ends by pumping again."""
        entry.attempts += 1
        try:
            reply = await link.call("send_message", entry.payload(), self.config.send_timeout)
        except ConnectionLostError:
            entry.in_flight = False  # stays queued; sent again after the reconnect
            return
        except TimeoutError:
            log.warning("no ack for message %s within %.1fs; probing the connection",
                        entry.client_msg_id, self.config.send_timeout)
            entry.in_flight = False
            await self._probe(link)  # dead → reconnect → resend; alive → resend now (same client_msg_id)
            self._pump()
            return
        except BaseException:
            entry.in_flight = False
            raise
        entry.in_flight = False
        if isinstance(reply, dict) and reply.get("success"):
            self._acked(entry, reply)
        else:
            self._refused(link, entry, error_from_reply(reply))
        self._pump()

    def _refused(self, link: _Link, entry: OutboxEntry, err: RequestError) -> None:
        if err.code in self.config.permanent_error_codes:
            log.warning("message %s refused for good: %s", entry.client_msg_id, err)
            self.outbox.remove(entry.client_msg_id)
            if not entry.future.done():
                entry.future.set_exception(SendFailedError(entry.client_msg_id, err))
            self._emit("send_failed", entry.to_dict(), err)
        elif err.code in ("NOT_REGISTERED", "UNAUTHENTICATED"):
            log.warning("send refused with %s: registering again", err.code)
            link.drop(f"send_message refused: {err.code}")
        else:
            # UNAVAILABLE, RATE_LIMITED, INTERNAL…: keep it (and the session's later messages) queued.
            delay = max(0.05, random.random() * self.backoff.ceiling(entry.attempts - 1))
            log.info("message %s: %s; retrying in %.2fs", entry.client_msg_id, err, delay)
            assert self.loop is not None
            entry.not_before = self.loop.time() + delay

    def _acked(self, entry: OutboxEntry, reply: dict[str, Any]) -> None:
        self.outbox.remove(entry.client_msg_id)
        verdict = self.tracker.own_sent(entry.session_id, reply.get("message_id"), reply.get("sequence_number"))
        self._deliver(verdict.deliver)
        if verdict.gap:
            self._schedule_gap_fill(entry.session_id)
        if not entry.future.done():
            entry.future.set_result(reply)
        self._emit("message_sent", entry.to_dict(), reply)

    def close(self) -> None:
        self.outbox.close()
