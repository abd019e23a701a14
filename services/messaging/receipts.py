"""Delivery and read receipts: who may acknowledge what, and the forward-only status changes.

A user may acknowledge a message it received: it takes part in the message's session and did not send it.
The sender's own devices acknowledging its own message are a no-op, not an error (every device gets every
message). Statuses only move forward (sent → delivered → read); a repeated or late receipt changes nothing
and sends no event. Each change is announced to the message's sender with ``message_status``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from services.messaging.metrics import DELIVERY_SECONDS
from services.messaging.publisher import Publisher
from services.messaging.store import ReceiptTarget, StatusChangeRow, Store
from switchboard.batching import Batcher
from switchboard.db import Pipeline, retrying
from switchboard.errors import NotFound, SwitchboardError


def received(user_id: int, message_ids: Sequence[int], targets: dict[int, ReceiptTarget]) -> list[ReceiptTarget]:
    """The targets ``user_id`` acknowledges; raises for unknown ids and for messages it did not receive."""
    kept = []
    for message_id in sorted(set(message_ids)):
        target = targets.get(message_id)
        # A message the user did not receive is answered like one that does not exist: ids cannot be probed.
        if target is None or user_id not in target.participants:
            raise NotFound(f"message {message_id} not found")
        if target.from_user_id == user_id:
            continue
        kept.append(target)
    return kept


@dataclasses.dataclass(frozen=True, slots=True)
class DeliveredReceipt:
    user_id: int
    message_ids: tuple[int, ...]


class Receipts:
    """Delivered receipts arrive once per message per device, as often as messages do: they are batched (one
    transaction for every receipt that queued while the previous batch ran), like sends."""

    def __init__(self, store: Store, publisher: Publisher, batch_max: int) -> None:
        self._store, self._publisher = store, publisher
        self._delivered: Batcher[DeliveredReceipt, list[StatusChangeRow]] = Batcher(
            "delivered-receipts", self._deliver, workers=1, batch_max=batch_max)

    def start(self) -> None:
        self._delivered.start()

    async def stop(self) -> None:
        await self._delivered.stop()

    async def delivered(self, user_id: int, message_ids: Sequence[int]) -> list[StatusChangeRow]:
        return await self._delivered.submit(DeliveredReceipt(user_id, tuple(message_ids)))

    async def delivered_many(
        self, receipts: Sequence[DeliveredReceipt]
    ) -> list[list[StatusChangeRow] | SwitchboardError]:
        """A batch RPC's receipts: one outcome each (its status changes, or the error it alone is refused with)."""
        return await self._delivered.submit_many(receipts)

    async def _deliver(self, receipts: Sequence[DeliveredReceipt]) -> list[list[StatusChangeRow] | SwitchboardError]:
        """One outcome per receipt: its status changes, or the error that receipt alone is refused with. Two
        round trips: the clock and the locked targets, then the updates with the COMMIT."""
        store = self._store

        sent_at: dict[int, float] = {}

        async def work() -> list[list[StatusChangeRow] | SwitchboardError]:
            outcomes: list[list[StatusChangeRow] | SwitchboardError] = []
            accepted: list[tuple[int, list[ReceiptTarget]]] = []
            async with store.pipelined() as pipeline:
                clock, messages, sessions = await pipeline.run(
                    store.NOW, *store.receipt_targets((i for r in receipts for i in r.message_ids), for_update=True))
                targets = store.targets(messages, sessions)
                sent_at.update((i, t.sent_at) for i, t in targets.items())
                for receipt in receipts:
                    try:
                        accepted.append((receipt.user_id, received(receipt.user_id, receipt.message_ids, targets)))
                        outcomes.append([])  # filled with its changes below
                    except SwitchboardError as exc:
                        outcomes.append(exc)
                changes, updates = store.mark_delivered(accepted, *store.clock(clock))
                await pipeline.run(*updates, commit=True)
            each = iter(changes)
            return [next(each) if isinstance(o, list) else o for o in outcomes]

        outcomes = await retrying(work)
        changes = [c for o in outcomes if isinstance(o, list) for c in o]
        for change in changes:
            DELIVERY_SECONDS.observe(max(0.0, change.at - sent_at[change.message_id]))
        await self._publisher.status_changes(changes)
        return outcomes

    async def read(self, user_id: int, message_ids: Sequence[int]) -> list[StatusChangeRow]:
        """Reading message N of a session reads everything others sent there up to N."""
        store = self._store

        async def work() -> list[StatusChangeRow]:
            async with store.pipelined() as pipeline:
                # Not locked here: the read-up-to statements lock the rows they change, in sequence order.
                clock, messages, sessions = await pipeline.run(
                    store.NOW, *store.receipt_targets(message_ids, for_update=False))
                up_to: dict[str, int] = {}
                for t in received(user_id, message_ids, store.targets(messages, sessions)):
                    up_to[t.session_id] = max(up_to.get(t.session_id, 0), t.sequence_number)
                return await self._read_up_to(pipeline, user_id, up_to, *store.clock(clock))

        return await self._announce(await retrying(work))

    async def read_up_to(self, user_id: int, session_id: str, sequence_number: int) -> list[StatusChangeRow]:
        session = await self._store.get_session(session_id)
        if session is None or user_id not in session.participants:  # not yours = does not exist
            raise NotFound(f"session {session_id} not found")

        async def work() -> list[StatusChangeRow]:
            async with self._store.pipelined() as pipeline:
                (clock,) = await pipeline.run(self._store.NOW)
                return await self._read_up_to(pipeline, user_id, {session_id: sequence_number},
                                              *self._store.clock(clock))

        return await self._announce(await retrying(work))

    async def _read_up_to(self, pipeline: Pipeline, user_id: int, up_to: dict[str, int], now: Any,
                          now_epoch: float) -> list[StatusChangeRow]:
        """Every session's statements in one round trip with the COMMIT (sessions in order: locks in order)."""
        sessions = sorted(up_to)
        results = await pipeline.run(
            *(st for sid in sessions for st in self._store.read_up_to(user_id, sid, up_to[sid], now)), commit=True)
        return [change for sid, locked in zip(sessions, results[::3], strict=True)
                for change in self._store.read_changes(sid, locked, now_epoch)]

    async def _announce(self, changes: list[StatusChangeRow]) -> list[StatusChangeRow]:
        await self._publisher.status_changes(changes)
        return changes
