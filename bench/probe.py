"""A device in the bench process itself, for the latency scenarios (offline, fanout) where a handful of sockets
are timed one event at a time and the generator's worker processes would only add pipe hops.

It records every ``new_message`` by ``client_msg_id`` with its arrival time, counts duplicates, and answers
``message_delivered`` in batches as a real client does (otherwise the server would push the backlog again).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from bench.loadgen import DELIVERED_FLUSH_S, SetupError, UserSpec, open_socket
from bench.protocol import LeanSocket, now


class Probe:
    def __init__(self, spec: UserSpec) -> None:
        self.spec = spec
        self.sock: LeanSocket | None = None
        self.arrivals: dict[str, float] = {}
        self.offline_flags = 0
        self.duplicates = 0
        self._pending_ids: list[Any] = []
        self._changed = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None

    async def open(self, register: bool = True) -> Probe:
        self.sock = await open_socket(self.spec, self._on_event, register=False)
        self._flusher = asyncio.create_task(self._flush())
        if register:
            await self.register()
        return self

    async def register(self) -> None:
        """Separate from :meth:`open` so a scenario can time from the register call (offline backlog)."""
        assert self.sock is not None
        reply = await self.sock.call("register", self.spec.register_payload(str(uuid.uuid4())))
        if not (isinstance(reply, dict) and reply.get("success")):
            raise SetupError(f"register refused for user {self.spec.user_id}: {reply}")

    async def call(self, event: str, data: Any, timeout: float = 15.0) -> Any:
        assert self.sock is not None
        reply = await self.sock.call(event, data, timeout)
        if not (isinstance(reply, dict) and reply.get("success")):
            raise SetupError(f"{event} refused: {reply}")
        return reply

    def _on_event(self, sock: LeanSocket, name: str, data: Any) -> None:
        if name != "new_message" or not isinstance(data, dict):
            return
        self._pending_ids.append(data.get("id"))
        cmid = data.get("client_msg_id")
        if cmid in self.arrivals:
            self.duplicates += 1
            return
        self.arrivals[cmid] = now()
        self.offline_flags += bool(data.get("offline"))
        self._changed.set()

    async def _flush(self) -> None:
        for _ in range(10**9):  # bounded: cancelled at close
            await asyncio.sleep(DELIVERED_FLUSH_S)
            if self._pending_ids and self.sock is not None and not self.sock.closed:
                ids, self._pending_ids = self._pending_ids, []
                self.sock.emit_call("message_delivered", {"message_ids": ids}, lambda _r: None)

    async def wait_count(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` distinct messages arrived; False on timeout (the caller reports the loss)."""
        end = now() + timeout
        while len(self.arrivals) < count and now() < end:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.0, end - now()))
            except TimeoutError:
                break
        return len(self.arrivals) >= count

    async def wait_for(self, cmid: str, timeout: float) -> float | None:
        """Arrival time of ``cmid``, or None if it did not come within ``timeout``."""
        end = now() + timeout
        while cmid not in self.arrivals and now() < end:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), max(0.0, end - now()))
            except TimeoutError:
                break
        return self.arrivals.get(cmid)

    async def close(self, flush: bool = True) -> None:
        if flush:
            await asyncio.sleep(DELIVERED_FLUSH_S * 2)
        if self._flusher is not None:
            self._flusher.cancel()
        if self.sock is not None:
            self.sock.close()
