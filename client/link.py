"""One socket.io connection (a *link*) and the calls made over it, including the heartbeat that tells a live
link from a dead one.

Each link has its own ``socketio.AsyncClient`` (``reconnection=False``: reconnecting belongs to
:mod:`client.connection`, so backoff, token refresh, re-registration and the send queue are coordinated in one
place). Handlers are bound to their link, so a late event of a dead link cannot disturb its successor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import socketio

from client.config import ClientConfig
from client.errors import ConnectionLostError, error_from_reply

log = logging.getLogger(__name__)


class Link:
    """One socket.io connection and what belongs to it."""

    def __init__(self, sio: socketio.AsyncClient, connection_id: str, config: ClientConfig) -> None:
        self.sio = sio
        self.connection_id = connection_id  # what heartbeats name, so the server knows which registration lives
        self.config = config
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

    async def heartbeat(self) -> None:
        """A missed ack means a dead (often half-open) connection: drop it, so the supervisor reconnects."""
        while not self.dropped.is_set():
            # Never beat less often than the server expects, or it closes us as silent.
            interval = min(self.config.heartbeat_interval, self.server_heartbeat or float("inf"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.dropped.wait(), interval)
                return
            if not await self.probe():
                return

    async def probe(self) -> bool:
        """One heartbeat; False (and the link dropped) if it shows the connection is dead."""
        try:
            reply = await self.call("heartbeat", {"connection_id": self.connection_id},
                                    self.config.heartbeat_timeout)
        except TimeoutError:
            log.warning("heartbeat ack missed (%.1fs): treating the connection as dead",
                        self.config.heartbeat_timeout)
            self.drop("heartbeat timeout")
            return False
        except ConnectionLostError:
            return False
        if isinstance(reply, dict) and not reply.get("success"):
            err = error_from_reply(reply)
            if err.code in ("NOT_REGISTERED", "UNAUTHENTICATED"):
                self.drop(f"heartbeat refused: {err}")
                return False
            log.warning("heartbeat refused: %s", err)
        return True
