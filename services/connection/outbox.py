"""Each engine.io socket's outgoing queue, bounded in bytes. engine.io queues every packet for a socket until its
writer gets it onto the wire; a client that stops reading (and keeps the TCP window shut) made that queue grow
without bound — 400 ``sync`` replies of ~2 MB held 610 MiB. Past the limit the queue is emptied at once (its
memory goes back), stays closed to new packets, and asks for the connection to be dropped, like Centrifugo's
client queue limit. A reader that keeps up never comes near it: the queue drains as fast as the socket writes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter

OVERFLOWS = Counter("switchboard_edge_backlog_overflows_total",
                    "Sockets dropped for an outgoing backlog over the limit")


def _size(pkt: Any) -> int:
    data = getattr(pkt, "data", None)
    return len(data) + 8 if isinstance(data, str | bytes) else 8


class Outbox(asyncio.Queue):
    """``asyncio.Queue`` of engine.io packets that counts what it holds (characters of the encoded packets; a
    ``None`` sentinel tells engine.io's writer to stop)."""

    def __init__(self, limit: int, on_overflow: Callable[[Outbox], None]) -> None:
        super().__init__()
        self.limit, self.held, self.overflowed = limit, 0, False
        self._on_overflow = on_overflow
        self._low: asyncio.Event | None = None  # made only while someone waits (memory per idle socket)

    async def below_half(self) -> None:
        """Return once at most half the limit is queued (or the connection is being dropped)."""
        if self.held <= self.limit // 2 or self.overflowed:
            return
        if self._low is None:
            self._low = asyncio.Event()
        await self._low.wait()

    def _release_waiters(self) -> None:
        if self._low is not None:
            self._low.set()
            self._low = None

    def put_nowait(self, item: Any) -> None:
        if self.overflowed:
            return  # the connection is being dropped; its writer already has the sentinel
        super().put_nowait(item)
        if item is None:
            return
        self.held += _size(item)
        if self.held > self.limit:
            self._overflow()

    def get_nowait(self) -> Any:
        item = super().get_nowait()
        if item is not None:
            self.held -= _size(item)
            if self.held <= self.limit // 2:
                self._release_waiters()
        return item

    def _overflow(self) -> None:
        self.overflowed = True
        OVERFLOWS.inc()
        while True:  # give the memory back now, not when the stuck writer finally gets through
            try:
                super().get_nowait()
            except asyncio.QueueEmpty:
                break
            self.task_done()
        self.held = 0
        self._release_waiters()
        super().put_nowait(None)  # the writer stops and closes the websocket
        self._on_overflow(self)
