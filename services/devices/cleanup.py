"""The periodic sweep of connections whose edge stopped beating (an edge that crashed and never came back
cannot call ResetNode)."""

from __future__ import annotations

import asyncio
import logging

from services.devices.metrics import STALE_CLOSED
from services.devices.presence import PresencePublisher
from services.devices.store import DeviceStore
from switchboard.workers import Worker

log = logging.getLogger(__name__)


class CleanupLoop(Worker):
    name = "devices-cleanup"

    def __init__(self, store: DeviceStore, presence: PresencePublisher, interval_seconds: float,
                 heartbeat_timeout_seconds: float) -> None:
        self._store, self._presence = store, presence
        self._interval = interval_seconds
        self._timeout = heartbeat_timeout_seconds

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                closed = await self._store.cleanup_stale_connections(self._timeout)
            except Exception:  # MySQL away for a moment: the next round sweeps what this one missed
                log.exception("stale connection cleanup failed")
                continue
            await self._presence.went_offline(closed.went_offline)
            if closed.count or closed.busy_users:  # busy users: the next round sweeps them
                STALE_CLOSED.inc(closed.count)
                log.info("closed stale connections", extra={
                    "closed": closed.count, "busy_users": closed.busy_users, "timeout_seconds": self._timeout})
