"""Application heartbeats (the spec's ``heartbeat`` event) feed the connection registry; the transport's own
Engine.IO ping keeps the socket alive. Writes are coalesced: one ``TouchConnections`` call per flush period
carries every connection that beat, so the registry sees one statement per flush per node, whatever the
socket count. Sockets silent for longer than the timeout are closed here."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import Counter

from protos import devices_pb2, devices_pb2_grpc
from services.connection.registry import Registry, Socket
from switchboard.errors import SwitchboardError
from switchboard.workers import Worker

log = logging.getLogger(__name__)

FLUSHES = Counter("switchboard_edge_heartbeat_flushes_total", "Coalesced heartbeat writes")
TIMEOUTS = Counter("switchboard_edge_heartbeat_timeouts_total", "Sockets closed for silence")

_FLUSH_CHUNK = 5000


class Heartbeats(Worker):
    name = "heartbeats"

    def __init__(self, registry: Registry, devices: devices_pb2_grpc.DeviceServiceStub, node_id: str,
                 flush_seconds: float, timeout_seconds: float, close: Callable[[Socket], Awaitable[None]]) -> None:
        self._registry, self._devices, self._node_id = registry, devices, node_id
        self._flush_seconds, self._timeout = flush_seconds, timeout_seconds
        self._close = close
        self._dirty: set[str] = set()

    def beat(self, sock: Socket) -> None:
        sock.last_beat = time.monotonic()
        self._dirty.add(sock.connection_id)

    async def stop(self) -> None:
        await super().stop()
        await self.flush()

    async def run(self) -> None:
        tick = max(0.05, min(self._flush_seconds, self._timeout / 4))
        last_flush = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            try:
                if time.monotonic() - last_flush >= self._flush_seconds:
                    last_flush = time.monotonic()
                    await self.flush()
                await self.reap()
            except Exception:
                log.exception("heartbeat cycle failed")

    async def flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        ids = sorted(dirty)
        for start in range(0, len(ids), _FLUSH_CHUNK):
            chunk = ids[start:start + _FLUSH_CHUNK]
            try:
                await self._devices.TouchConnections(
                    devices_pb2.TouchConnectionsRequest(node_id=self._node_id, connection_ids=chunk)
                )
                FLUSHES.inc()
            except SwitchboardError as exc:
                self._dirty.update(chunk)  # try again next flush; a beat is not worth losing the row's liveness
                log.warning("heartbeat flush failed", extra={"error": exc.message, "connections": len(chunk)})

    async def reap(self) -> None:
        for sock in self._registry.silent_since(time.monotonic() - self._timeout):
            TIMEOUTS.inc()
            log.info("closing silent socket", extra={"sid": sock.sid, "connection_id": sock.connection_id})
            await self._close(sock)
