"""The SDK's two faces over one core (:mod:`client.core`):

* :class:`WebSocketClient` — blocking API, safe from any thread (a desktop app's UI thread). The core runs on
  an event loop in a background thread ("switchboard-sdk-loop"); callbacks run on another thread
  ("switchboard-sdk-callbacks"), one at a time, so a callback may itself use the blocking API.
* :class:`AsyncWebSocketClient` — the same features as coroutines on the caller's event loop; callbacks (plain
  or ``async``) run one at a time on that loop.

Shared here: configuration attributes, callback registration and status, in :class:`_ClientBase`. Each face
adds only the translation of its calls.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

from client.config import ClientConfig
from client.connection import TokenProvider
from client.core import ClientCore
from client.dispatch import Callback, Dispatcher, LoopDispatcher, ThreadDispatcher
from client.errors import (
    ClientClosedError,
    ConnectionLostError,
    NotConnectedError,
    QueueFullError,
    RequestError,
    SDKError,
    SendFailedError,
)
from client.outbox import OutboxEntry
from client.runtime import EVENTS
from client.status import ConnectionStatus

__all__ = [
    "AsyncWebSocketClient",
    "ClientClosedError",
    "ConnectionLostError",
    "ConnectionStatus",
    "NotConnectedError",
    "QueueFullError",
    "RequestError",
    "SDKError",
    "SendFailedError",
    "SendHandle",
    "WebSocketClient",
]

T = TypeVar("T")


class SendHandle:
    """What ``send_message`` returns at once: the message's ``client_msg_id`` and its pending server ack.

    ``handle.result(timeout)`` blocks (sync apps); ``await handle`` waits (async apps). The ack is the server's
    ``send_message`` reply (``message_id``, ``sequence_number``…); a message refused for good raises
    :class:`SendFailedError`. The message keeps being retried after a timeout here — waiting is optional.
    """

    def __init__(self, entry: OutboxEntry) -> None:
        self.client_msg_id = entry.client_msg_id
        self.session_id = entry.session_id
        self.future: concurrent.futures.Future[dict[str, Any]] = entry.future

    def result(self, timeout: float | None = None) -> dict[str, Any]:
        return self.future.result(timeout)

    def done(self) -> bool:
        return self.future.done()

    def __await__(self) -> Generator[Any, None, dict[str, Any]]:
        return asyncio.wrap_future(self.future).__await__()

    def __str__(self) -> str:
        return self.client_msg_id

    def __repr__(self) -> str:
        state = "acked" if self.done() else "pending"
        return f"<SendHandle {self.client_msg_id} {state}>"


class _Config(Generic[T]):
    """A face attribute that reads and writes the core's :class:`ClientConfig` field of the same name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: _ClientBase | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj._core.config, self.name)

    def __set__(self, obj: _ClientBase, value: T) -> None:
        setattr(obj._core.config, self.name, value)


class _ClientBase:
    """Configuration, callbacks and status: everything that does not depend on sync vs async."""

    heartbeat_interval: _Config[float] = _Config()
    heartbeat_timeout: _Config[float] = _Config()
    retry_interval: _Config[float] = _Config()
    max_retry_interval: _Config[float] = _Config()
    max_send_retry_interval: _Config[float] = _Config()
    max_retries: _Config[int | None] = _Config()
    max_queue_size: _Config[int] = _Config()
    request_timeout: _Config[float] = _Config()
    send_timeout: _Config[float] = _Config()
    connect_timeout: _Config[float] = _Config()
    auto_ack_delivered: _Config[bool] = _Config()
    gap_timeout: _Config[float] = _Config()

    def __init__(self, server_url: str | Sequence[str], dispatcher: Dispatcher, queue_path: str | Path | None,
                 config: dict[str, Any]) -> None:
        self._core = ClientCore(server_url, ClientConfig(**config), dispatcher, queue_path=queue_path)

    # Registration returns the callback, so each also works as a decorator.
    def _on(self, event: str, cb: Callback) -> Callback:
        return self._core.runtime.add_callback(event, cb)

    def on_connect(self, cb: Callable[[], Any]) -> Callback:
        return self._on("connect", cb)

    def on_disconnect(self, cb: Callable[[str], Any]) -> Callback:
        return self._on("disconnect", cb)

    def on_message(self, cb: Callable[[dict[str, Any]], Any]) -> Callback:
        return self._on("message", cb)

    def on_status_change(self, cb: Callable[[ConnectionStatus], Any]) -> Callback:
        return self._on("status_change", cb)

    def on_message_status(self, cb: Callable[[dict[str, Any]], Any]) -> Callback:
        return self._on("message_status", cb)

    def on_typing(self, cb: Callable[[dict[str, Any]], Any]) -> Callback:
        return self._on("typing", cb)

    def on_session_updated(self, cb: Callable[[dict[str, Any]], Any]) -> Callback:
        return self._on("session_updated", cb)

    def on_kicked(self, cb: Callable[[dict[str, Any]], Any]) -> Callback:
        return self._on("kicked", cb)

    def on_error(self, cb: Callable[[Exception], Any]) -> Callback:
        return self._on("error", cb)

    def on_send_failed(self, cb: Callable[[dict[str, Any], RequestError], Any]) -> Callback:
        return self._on("send_failed", cb)

    def on_message_sent(self, cb: Callable[[dict[str, Any], dict[str, Any]], Any]) -> Callback:
        return self._on("message_sent", cb)

    def get_status(self) -> ConnectionStatus:
        return self._core.connection.status

    def is_connected(self) -> bool:
        return self._core.connection.status is ConnectionStatus.CONNECTED

    @property
    def server_url(self) -> str:
        """The edge URL in use (or tried next): with several URLs the client moves to the next on each retry."""
        return self._core.connection.server_url

    @property
    def connection_id(self) -> str:
        return self._core.connection.connection_id

    @property
    def device_id(self) -> str | None:
        return self._core.connection.device_id

    @property
    def user_id(self) -> int | None:
        return self._core.connection.user_id

    def pending_count(self) -> int:
        """Messages queued and not yet acknowledged by the server."""
        return len(self._core.outbox)

    def last_sequence(self, session_id: str) -> int | None:
        """The highest sequence of ``session_id`` handled in order (passed on, or our own)."""
        return self._core.tracker.last(session_id)

    def _enqueue(self, session_id: str, message: str, role: str, message_type: str,
                 reply_to_message_id: int | None, client_msg_id: str | None) -> SendHandle:
        return SendHandle(self._core.sender.enqueue(session_id, message, role, message_type, reply_to_message_id,
                                                    client_msg_id))


assert {name for name in dir(_ClientBase) if name.startswith("on_")} == {f"on_{e}" for e in EVENTS}


class WebSocketClient(_ClientBase):
    """Blocking client, safe to call from any thread.

    ``connect()`` starts the connection and (by default) blocks until the first registration succeeded or
    ``timeout`` passed; it returns whether it is connected. It keeps trying in the background either way
    (``on_status_change`` tells when), unless the token is refused for good, which raises. Request helpers
    (``open_session``…) block until the server answers; receipts and typing return a
    :class:`concurrent.futures.Future` and do not block.
    """

    def __init__(self, server_url: str | Sequence[str] = "http://127.0.0.1:8000", *,
                 queue_path: str | Path | None = None, **config: Any) -> None:
        self._dispatcher = ThreadDispatcher()
        super().__init__(server_url, self._dispatcher, queue_path, config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="switchboard-sdk-loop", daemon=True)
        self._thread.start()
        self._closed = False

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if self._closed:
            coro.close()
            raise ClientClosedError("the client was closed")
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run on the SDK loop and wait. From the loop thread itself that would deadlock: refuse."""
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("blocking WebSocketClient call from the SDK's loop thread")
        return self._submit(coro).result(timeout)

    def connect(self, user_id: int, token: str | None = None, device_id: str | None = None,
                device_info: dict[str, Any] | None = None, token_provider: TokenProvider | None = None,
                timeout: float | None = 10.0) -> bool:
        """Start connecting; wait up to ``timeout`` (None: forever, 0: not at all) for the first success."""
        self._run(self._core.connection.start(user_id, token, device_id, device_info, token_provider))
        if timeout == 0:
            return False
        return self._run(self._core.connection.wait_connected(timeout))

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._run(self._core.connection.wait_connected(timeout))

    def send_message(self, session_id: str, message: str, role: str = "user", message_type: str = "text",
                     reply_to_message_id: int | None = None, client_msg_id: str | None = None) -> SendHandle:
        """Queue (and persist) at once; raises :class:`QueueFullError` rather than drop anything."""
        return self._enqueue(session_id, message, role, message_type, reply_to_message_id, client_msg_id)

    def send_message_delivered(self, message_id: Any = None, user_id: int | None = None,
                               message_ids: list[Any] | None = None) -> concurrent.futures.Future[dict[str, Any]]:
        return self._submit(self._core.rpc.send_delivered(message_id, user_id, message_ids))

    def send_message_read(self, message_id: Any = None, user_id: int | None = None,
                          message_ids: list[Any] | None = None, session_id: str | None = None,
                          up_to_sequence: int | None = None) -> concurrent.futures.Future[dict[str, Any]]:
        return self._submit(self._core.rpc.send_read(message_id, user_id, message_ids, session_id, up_to_sequence))

    def send_typing(self, session_id: str, is_typing: bool = True) -> concurrent.futures.Future[dict[str, Any]]:
        return self._submit(self._core.rpc.request("typing", {"session_id": session_id, "is_typing": is_typing}))

    def open_session(self, timeout: float | None = None) -> str:
        """Open (or get) the customer's session; returns its id."""
        return self._run(self._core.rpc.open_session(timeout))["session_id"]

    def join_session(self, session_id: str, timeout: float | None = None) -> dict[str, Any]:
        return self._run(self._core.rpc.join_session(session_id, timeout))

    def sync(self, session_id: str, after_sequence: int | None = None, limit: int = 100,
             timeout: float | None = None) -> dict[str, Any]:
        return self._run(self._core.rpc.sync(session_id, after_sequence, limit, timeout))

    def list_sessions(self, scope: str = "mine", status: str | None = None, cursor: int = 0,
                      limit: int | None = None, timeout: float | None = None) -> dict[str, Any]:
        return self._run(self._core.rpc.list_sessions(scope, status, cursor, limit, timeout))

    def transfer_session(self, session_id: str, agent_id: int, timeout: float | None = None) -> dict[str, Any]:
        return self._run(self._core.rpc.transfer_session(session_id, agent_id, timeout))

    def close_session(self, session_id: str, timeout: float | None = None) -> dict[str, Any]:
        return self._run(self._core.rpc.close_session(session_id, timeout))

    def list_devices(self, timeout: float | None = None) -> list[dict[str, Any]]:
        return self._run(self._core.rpc.request("list_devices", {}, timeout)).get("devices", [])

    def kick_device(self, device_id: str, timeout: float | None = None) -> dict[str, Any]:
        return self._run(self._core.rpc.request("kick_device", {"device_id": device_id}, timeout))

    def disconnect(self, timeout: float | None = 10.0) -> None:
        """Stop and do not reconnect. Unsent messages stay queued (and on disk) for the next connect()."""
        if not self._closed:
            self._run(self._core.connection.stop(), timeout)

    def close(self) -> None:
        """Disconnect, run the callbacks already queued, and end the SDK's threads."""
        if self._closed:
            return
        try:
            self.disconnect()
        finally:
            self._closed = True
            # Callbacks first, while the loop still runs: what waits for them (recording a message as shown)
            # hops back to the loop.
            self._dispatcher.close(5)
            self._loop.call_soon_threadsafe(self._loop.stop)
            if threading.current_thread() is not self._thread:
                self._thread.join(5)
            self._core.close()

    def __enter__(self) -> WebSocketClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncWebSocketClient(_ClientBase):
    """Asyncio client: the same core on the caller's loop. Create and use it from one event loop."""

    def __init__(self, server_url: str | Sequence[str] = "http://127.0.0.1:8000", *,
                 queue_path: str | Path | None = None, **config: Any) -> None:
        self._dispatcher = LoopDispatcher()
        super().__init__(server_url, self._dispatcher, queue_path, config)

    async def connect(self, user_id: int, token: str | None = None, device_id: str | None = None,
                      device_info: dict[str, Any] | None = None,
                      token_provider: Callable[[], str | Awaitable[str]] | None = None,
                      timeout: float | None = 10.0) -> bool:
        await self._core.connection.start(user_id, token, device_id, device_info, token_provider)
        if timeout == 0:
            return False
        return await self._core.connection.wait_connected(timeout)

    async def wait_connected(self, timeout: float | None = None) -> bool:
        return await self._core.connection.wait_connected(timeout)

    def send_message(self, session_id: str, message: str, role: str = "user", message_type: str = "text",
                     reply_to_message_id: int | None = None, client_msg_id: str | None = None) -> SendHandle:
        """Not a coroutine: queues at once; ``await`` the handle for the ack."""
        return self._enqueue(session_id, message, role, message_type, reply_to_message_id, client_msg_id)

    async def send_message_delivered(self, message_id: Any = None, user_id: int | None = None,
                                     message_ids: list[Any] | None = None) -> dict[str, Any]:
        return await self._core.rpc.send_delivered(message_id, user_id, message_ids)

    async def send_message_read(self, message_id: Any = None, user_id: int | None = None,
                                message_ids: list[Any] | None = None, session_id: str | None = None,
                                up_to_sequence: int | None = None) -> dict[str, Any]:
        return await self._core.rpc.send_read(message_id, user_id, message_ids, session_id, up_to_sequence)

    async def send_typing(self, session_id: str, is_typing: bool = True) -> dict[str, Any]:
        return await self._core.rpc.request("typing", {"session_id": session_id, "is_typing": is_typing})

    async def open_session(self, timeout: float | None = None) -> str:
        return (await self._core.rpc.open_session(timeout))["session_id"]

    async def join_session(self, session_id: str, timeout: float | None = None) -> dict[str, Any]:
        return await self._core.rpc.join_session(session_id, timeout)

    async def sync(self, session_id: str, after_sequence: int | None = None, limit: int = 100,
                   timeout: float | None = None) -> dict[str, Any]:
        return await self._core.rpc.sync(session_id, after_sequence, limit, timeout)

    async def list_sessions(self, scope: str = "mine", status: str | None = None, cursor: int = 0,
                            limit: int | None = None, timeout: float | None = None) -> dict[str, Any]:
        return await self._core.rpc.list_sessions(scope, status, cursor, limit, timeout)

    async def transfer_session(self, session_id: str, agent_id: int,
                               timeout: float | None = None) -> dict[str, Any]:
        return await self._core.rpc.transfer_session(session_id, agent_id, timeout)

    async def close_session(self, session_id: str, timeout: float | None = None) -> dict[str, Any]:
        return await self._core.rpc.close_session(session_id, timeout)

    async def list_devices(self, timeout: float | None = None) -> list[dict[str, Any]]:
        return (await self._core.rpc.request("list_devices", {}, timeout)).get("devices", [])

    async def kick_device(self, device_id: str, timeout: float | None = None) -> dict[str, Any]:
        return await self._core.rpc.request("kick_device", {"device_id": device_id}, timeout)

    async def disconnect(self) -> None:
        await self._core.connection.stop()
        await self._dispatcher.drain()

    async def close(self) -> None:
        await self.disconnect()
        self._core.close()

    async def __aenter__(self) -> AsyncWebSocketClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
