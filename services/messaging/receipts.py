"""Delivery and read receipts: who may acknowledge what, and the forward-only status changes.

A user may acknowledge a message it received: it takes part in the message's session and did not send it.
The sender's own devices acknowledging its own message are a no-op, not an error (every device gets every
message). Statuses only move forward (sent → delivered → read); a repeated or late receipt changes nothing
and sends no event. Each change is announced to the message's sender with ``message_status``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import aiomysql

from services.messaging.publisher import Publisher
from services.messaging.store import ReceiptTarget, StatusChangeRow, Store
from switchboard.batching import Batcher
from switchboard.db import retrying
from switchboard.errors import Forbidden, NotFound, SwitchboardError


def received(user_id: int, message_ids: Sequence[int], targets: dict[int, ReceiptTarget]) -> list[ReceiptTarget]:
    """The targets ``user_id`` acknowledges; raises for unknown ids and for messages it did not receive."""
    kept = []
    for message_id in sorted(set(message_ids)):
        target = targets.get(message_id)
        if target is None:
            raise NotFound(f"message {message_id} not found")
        if target.from_user_id == user_id:
            continue
        if user_id not in target.participants:
            raise Forbidden(f"message {message_id} was not sent to user {user_id}")
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

    async def _deliver(self, receipts: Sequence[DeliveredReceipt]) -> list[list[StatusChangeRow] | SwitchboardError]:
        """One outcome per receipt: its status changes, or the error that receipt alone is refused with."""

        async def work() -> list[list[StatusChangeRow] | SwitchboardError]:
            outcomes: list[list[StatusChangeRow] | SwitchboardError] = []
            accepted: list[tuple[int, list[ReceiptTarget]]] = []
            async with self._store.transaction() as cur:
                ids = sorted({i for r in receipts for i in r.message_ids})
                targets = await self._store.receipt_targets(cur, ids, for_update=True)
                for receipt in receipts:
                    try:
                        accepted.append((receipt.user_id, received(receipt.user_id, receipt.message_ids, targets)))
                        outcomes.append([])  # filled with its changes below
                    except SwitchboardError as exc:
                        outcomes.append(exc)
                now, epoch = await self._store.now(cur)
                changes = iter(await self._store.mark_delivered(cur, accepted, now, epoch))
            return [next(changes) if isinstance(o, list) else o for o in outcomes]

        outcomes = await retrying(work)
        await self._publisher.status_changes([c for o in outcomes if isinstance(o, list) for c in o])
        return outcomes

    async def read(self, user_id: int, message_ids: Sequence[int]) -> list[StatusChangeRow]:
        """Reading message N of a session reads everything others sent there up to N."""

        async def work() -> list[StatusChangeRow]:
            async with self._store.transaction() as cur:
                # Not locked here: the read-up-to statements lock the rows they change, in sequence order.
                targets = received(user_id, message_ids,
                                   await self._store.receipt_targets(cur, message_ids, for_update=False))
                up_to: dict[str, int] = {}
                for t in targets:
                    up_to[t.session_id] = max(up_to.get(t.session_id, 0), t.sequence_number)
                return await self._read_up_to(cur, user_id, up_to)

        return await self._announce(await retrying(work))

    async def read_up_to(self, user_id: int, session_id: str, sequence_number: int) -> list[StatusChangeRow]:
        session = await self._store.get_session(session_id)
        if session is None:
            raise NotFound(f"session {session_id} not found")
        if user_id not in session.participants:
            raise Forbidden(f"user {user_id} does not take part in session {session_id}")

        async def work() -> list[StatusChangeRow]:
            async with self._store.transaction() as cur:
                return await self._read_up_to(cur, user_id, {session_id: sequence_number})

        return await self._announce(await retrying(work))

    async def _read_up_to(self, cur: aiomysql.Cursor, user_id: int, up_to: dict[str, int]) -> list[StatusChangeRow]:
        if not up_to:
            return []
        now, epoch = await self._store.now(cur)
        changes: list[StatusChangeRow] = []
        for session_id in sorted(up_to):
            changes += await self._store.mark_read_up_to(cur, user_id, session_id, up_to[session_id], now, epoch)
        return changes

    async def _announce(self, changes: list[StatusChangeRow]) -> list[StatusChangeRow]:
        await self._publisher.status_changes(changes)
        return changes
