"""Presence transitions on ``{prefix}.presence.<user_id>``: a user's first socket connecting (online) and the
last one closing, however it closed — unregistered, kicked, reset with its edge, swept as stale (offline).
Core NATS: the registry holds the state (``GetPresence``), so a lost event is logged and never fails the
call that caused it. The messaging service forwards the events to the user's session counterparts."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from nats.aio.client import Client

from services.devices.metrics import PRESENCE_PUBLISHED
from services.devices.store import WentOffline
from switchboard.nats import Subjects, encode
from switchboard.time import iso

log = logging.getLogger(__name__)


class PresencePublisher:
    def __init__(self, nc: Client, subjects: Subjects) -> None:
        self._nc, self._subjects = nc, subjects

    async def came_online(self, user_id: int) -> None:
        await self._publish(user_id, True, None)

    async def went_offline(self, users: Iterable[WentOffline]) -> None:
        for user in users:
            await self._publish(user.user_id, False, user.last_seen)

    async def _publish(self, user_id: int, online: bool, last_seen: datetime | None) -> None:
        payload = encode("presence", {"user_id": user_id, "online": online, "last_seen": iso(last_seen)})
        try:
            await self._nc.publish(self._subjects.presence(user_id), payload)
        except Exception as exc:
            PRESENCE_PUBLISHED.labels(str(online).lower(), "failed").inc()
            log.warning("presence publish failed", extra={"user_id": user_id, "online": online, "error": repr(exc)})
            return
        PRESENCE_PUBLISHED.labels(str(online).lower(), "published").inc()
