"""The delivery sweep: a recipient who is online but never acknowledged a message gets it pushed again.

A live push can be lost without anything noticing: the edge held the socket but the emit died with it, a
publish was answered but the edge's subscription was being restored, a replica died between its commit and
its publish. The recipient's ``offline_messages`` row stays undelivered, and without this sweep only its next
registration (or a sequence gap its client notices) would bring the message.

Every ``delivery_sweep_interval_seconds`` each replica reads the recent undelivered rows (older than
``delivery_sweep_age_seconds``, newer than ``delivery_sweep_horizon_seconds``, newest first), asks the
devices service which of their recipients are online, and publishes those messages again. A row pushed by the
sweep waits twice as long before its next push (up to ``SWEEP_BACKOFF_CAP_SECONDS``), so a device that keeps
not acknowledging does not get the message every pass. Offline recipients are skipped: registration pushes
their backlog. When the devices service cannot answer, every recipient is treated as online: a needless
publish costs little, a withheld one is a silent session. Replicas sweep independently; clients drop repeats
by id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from services.messaging import metrics
from services.messaging.publisher import Publish, Publisher
from services.messaging.settings import Settings
from services.messaging.store import Store
from switchboard.errors import SwitchboardError
from switchboard.workers import PeriodicWorker

log = logging.getLogger(__name__)

SWEEP_BACKOFF_CAP_SECONDS = 120.0

# Which of these users have a live connection (the devices service's GetPresence).
OnlineLookup = Callable[[Iterable[int]], Awaitable[set[int]]]


class DeliverySweep(PeriodicWorker):
    name = "delivery-sweep"
    passes = metrics.SWEEP_PASSES

    def __init__(self, store: Store, publisher: Publisher, online: OnlineLookup, settings: Settings) -> None:
        self._store, self._publisher, self._online, self._settings = store, publisher, online, settings
        self._next_push: dict[tuple[int, int], tuple[int, float]] = {}  # (user, message) → (pushes, due at)

    def interval(self) -> float:
        return self._settings.delivery_sweep_interval_seconds

    async def run_once(self) -> int:
        return await self.sweep_once()

    async def sweep_once(self) -> int:
        """One pass; returns how many (recipient, message) pushes it made. Counts the whole backlog for the
        dashboards on the way (the retry queue's depth is counted by its own worker likewise)."""
        metrics.OFFLINE_BACKLOG.set(await self._store.offline_backlog())
        if not self._publisher.connected:
            return 0  # the retry queue and the edges' re-push after their reconnect cover a NATS outage
        settings = self._settings
        rows = await self._store.undelivered_since(
            settings.delivery_sweep_horizon_seconds, settings.delivery_sweep_age_seconds,
            settings.delivery_sweep_batch)
        now = asyncio.get_running_loop().time()
        # Rows no longer listed were acknowledged (or aged out): forget them, which also bounds the memory.
        listed = set(rows)
        self._next_push = {key: due for key, due in self._next_push.items() if key in listed}
        due = [key for key in rows if self._next_push.get(key, (0, 0.0))[1] <= now]
        if not due:
            return 0
        online = await self._online_or_all({user_id for user_id, _ in due})
        due = [(user_id, message_id) for user_id, message_id in due if user_id in online]
        if not due:
            return 0
        messages = await self._store.get_messages(message_id for _, message_id in due)
        recipients: dict[int, list[int]] = {}
        for user_id, message_id in due:
            if message_id in messages:
                recipients.setdefault(message_id, []).append(user_id)
            pushes = self._next_push.get((user_id, message_id), (0, 0.0))[0] + 1
            delay = min(SWEEP_BACKOFF_CAP_SECONDS, settings.delivery_sweep_age_seconds * 2**pushes)
            self._next_push[(user_id, message_id)] = (pushes, now + delay)
        publishes: list[Publish] = [(messages[mid], tuple(users), "") for mid, users in recipients.items()]
        await self._publisher.new_messages(publishes)
        pushed = sum(len(users) for users in recipients.values())
        metrics.REPUBLISHED.labels("sweep").inc(pushed)
        log.info("delivery sweep pushed unacknowledged messages again",
                 extra={"pushes": pushed, "messages": len(recipients)})
        return pushed

    async def _online_or_all(self, user_ids: set[int]) -> set[int]:
        try:
            return await self._online(user_ids)
        except SwitchboardError as exc:
            log.warning("presence unknown, sweeping every recipient", extra={"error": exc.message})
            return user_ids
