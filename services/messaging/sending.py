"""The send path as one unit: store (through the batch writer), then publish to the recipients.

A caller that gives up (its RPC deadline passed, its edge died) must not split the two: a message committed
but never published would reach a recipient who stays connected only at its next registration. So each
call's work runs in a task of its own that the caller only *waits for* (``asyncio.shield``): cancelling the
RPC leaves the task to commit and publish, or queue the publish for retry.

A retried send that hits its idempotency key (``duplicate``) publishes the original again to the recipients
that have not acknowledged it yet: the first attempt may have been stored by a replica that died before it
published. JetStream drops the repeat from the stream inside its duplicate window, but the edges' core
subscriptions still receive it (see the field notes), and clients drop repeats by id.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from services.messaging import metrics
from services.messaging.publisher import Publish, Publisher
from services.messaging.store import Store
from services.messaging.writer import BatchWriter, Outcome, Outgoing, Stored

log = logging.getLogger(__name__)

# ``(request, origin connection)``: the sending socket's connection id, which its own copy skips.
Send = tuple[Outgoing, str]


class Sending:
    def __init__(self, writer: BatchWriter, publisher: Publisher, store: Store) -> None:
        self._writer, self._publisher, self._store = writer, publisher, store
        self._running: set[asyncio.Task[list[Outcome]]] = set()

    async def send(self, items: Sequence[Send]) -> list[Outcome]:
        """One outcome per item, in order. Cancelling the caller does not cancel the work."""
        task = asyncio.ensure_future(self._store_and_publish(items))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await asyncio.shield(task)

    async def drain(self) -> None:
        """At shutdown: let the units whose callers left finish publishing before NATS closes."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _store_and_publish(self, items: Sequence[Send]) -> list[Outcome]:
        outcomes = await self._writer.submit_many([request for request, _ in items])
        fresh: list[Publish] = []
        repeated: dict[int, tuple[Stored, str]] = {}
        for outcome, (_, origin) in zip(outcomes, items, strict=True):
            if isinstance(outcome, Stored) and outcome.publish_to:
                fresh.append((outcome.message, outcome.publish_to, origin))
            elif isinstance(outcome, Stored):
                repeated.setdefault(outcome.message.id, (outcome, origin))
        for message, _, _ in fresh:
            repeated.pop(message.id, None)  # a repeat of a message of this very call: published just now
        await self._publisher.new_messages(fresh + await self._unacknowledged(repeated))
        return outcomes

    async def _unacknowledged(self, repeated: dict[int, tuple[Stored, str]]) -> list[Publish]:
        """Duplicates to publish again: to each recipient that has not acknowledged the original yet."""
        if not repeated:
            return []
        try:
            waiting = await self._store.unacknowledged(repeated)
        except Exception:  # the sender is answered anyway; the delivery sweep finds these rows later
            log.exception("cannot look up recipients of duplicates", extra={"message_ids": sorted(repeated)})
            return []
        metrics.REPUBLISHED.labels("duplicate").inc(sum(len(users) for users in waiting.values()))
        return [(repeated[mid][0].message, tuple(users), repeated[mid][1]) for mid, users in waiting.items()]
