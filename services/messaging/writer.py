"""The batch writer: every SendMessage of this replica goes through a queue, and a few writer tasks each take
what has queued up (up to ``batch_max``) and store it in ONE transaction.

Natural batching: an idle writer takes a lone request at once (no added latency); under load requests pile up
while a batch is in flight and the next batch is bigger, so the commit (fsync) is shared by many messages.

Per batch, in one transaction of two round trips (a pipelined transaction: statements travel together):

1. BEGIN; idempotency keys already stored → the original message, ``duplicate=True``;
2. the sessions' rows are locked (``SELECT … FOR UPDATE``, in session_id order so batches never deadlock each
   other); under the lock the sender is checked against the CURRENT participants and ``last_sequence`` is
   read, so the next numbers are allocated gap-free no matter how many replicas write;
   the sessions of replies are read in the same round trip;
3. ``last_sequence`` is advanced for all sessions in one statement, the messages and the recipients'
   ``offline_messages`` rows are inserted with multi-row INSERTs, the new ids read back, COMMIT.

Two replicas racing on the same idempotency key: the loser's INSERT hits the unique key (1062); the batch is
rolled back (its sequence numbers with it) and run again, and step 1 then finds the winner's row.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

import pymysql

from services.messaging import metrics
from services.messaging.store import MessageRow, NewMessageRow, SessionRow, Store
from switchboard.batching import Batcher
from switchboard.db import DUPLICATE_KEY, TRANSIENT, mysql_error_code, retrying
from switchboard.errors import Forbidden, InvalidArgument, NotFound, SwitchboardError

log = logging.getLogger(__name__)

SYSTEM = "system"


@dataclasses.dataclass(frozen=True, slots=True)
class Outgoing:
    """A validated send request. ``sender_id`` is 0 and ``sender_role`` ``system`` for system messages."""

    session_id: str
    sender_id: int
    sender_role: str
    text: str
    message_type: str
    reply_to_message_id: int | None
    client_msg_id: str | None

    @property
    def idempotency_key(self) -> tuple[int, str, str] | None:
        """(sender, session, client_msg_id): a key repeated in another session is another message."""
        return (self.sender_id, self.session_id, self.client_msg_id) if self.client_msg_id else None


@dataclasses.dataclass(frozen=True, slots=True)
class Stored:
    message: MessageRow
    duplicate: bool
    # Users whose subjects get ``new_message``: every participant (the sender's other devices too) for a new
    # message; empty for a duplicate (services.messaging.sending publishes it again to whoever has not
    # acknowledged it).
    publish_to: tuple[int, ...] = ()


Outcome = Stored | SwitchboardError


def check_sender(request: Outgoing, session: SessionRow | None) -> None:
    """The sender must be the session's customer (role user) or its assigned agent (role agent)."""
    if session is None or (request.sender_role != SYSTEM and request.sender_id != (
            session.user_id if request.sender_role == "user" else session.agent_id)):
        # Not the sender's session and no session at all get the same answer, so session ids cannot be probed.
        raise NotFound(f"session {request.session_id} not found")
    if session.status != "open":
        raise Forbidden(f"session {request.session_id} is closed")


def check_reply(request: Outgoing, reply_sessions: dict[int, str]) -> None:
    """A reply must point at a message of the same session."""
    reply_to = request.reply_to_message_id
    if reply_to and reply_sessions.get(reply_to) != request.session_id:
        raise InvalidArgument(f"reply_to_message_id {reply_to} is not a message of this session")


def recipients(request: Outgoing, session: SessionRow) -> tuple[int, ...]:
    """Who must receive the message: every participant but its sender."""
    return tuple(uid for uid in session.participants if uid != request.sender_id)


def addressee(request: Outgoing, session: SessionRow) -> int | None:
    """``to_user_id``: the other participant; the customer for system messages; None while no agent."""
    if request.sender_role == "user":
        return session.agent_id
    return session.user_id


class BatchWriter:
    def __init__(self, store: Store, writers: int, batch_max: int) -> None:
        self._store = store
        self._batcher: Batcher[Outgoing, Stored] = Batcher(
            "batch-writer", self.write, writers, batch_max, metrics.BATCH_SIZE.observe)

    def start(self) -> None:
        self._batcher.start()

    async def stop(self) -> None:
        await self._batcher.stop()

    async def submit(self, request: Outgoing) -> Stored:
        return await self._batcher.submit(request)

    async def submit_many(self, requests: Sequence[Outgoing]) -> list[Outcome]:
        """In order, sharing the next batches; one outcome per request."""
        return await self._batcher.submit_many(requests)

    async def write(self, requests: Sequence[Outgoing]) -> list[Outcome]:
        """Store a batch; one outcome per request, in order."""
        attempts = 0

        async def attempt() -> list[Outcome]:
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                metrics.BATCH_RETRIES.inc()
            return await self._write(requests)

        # A duplicate key is a race lost to another writer: the next attempt finds the winner's row. A batch
        # that keeps colliding holds two keys equal for the collation only (``ABC``/``abc``, rare), which
        # collide on every attempt: one request per transaction then lets the second find the first.
        try:
            outcomes = await retrying(attempt, retry_on=TRANSIENT | {DUPLICATE_KEY})
        except pymysql.err.IntegrityError as exc:
            if mysql_error_code(exc) != DUPLICATE_KEY or len(requests) == 1:
                raise
            log.info("batch split after duplicate keys", extra={"batch": len(requests)})
            return [outcome for request in requests for outcome in await self.write([request])]
        for outcome in outcomes:
            if isinstance(outcome, Stored) and outcome.duplicate:
                metrics.DUPLICATES.inc()
            elif isinstance(outcome, Stored):
                metrics.MESSAGES_STORED.labels(outcome.message.sender_role).inc()
        return outcomes

    async def _write(self, requests: Sequence[Outgoing]) -> list[Outcome]:
        """Two round trips: BEGIN with the reads and locks, then the writes with the COMMIT."""
        store = self._store
        outcomes: list[Outcome | None] = [None] * len(requests)
        async with store.pipelined() as pipeline:
            found, locked, replies = await pipeline.run(
                store.find_by_client_ids(key for r in requests if (key := r.idempotency_key) is not None),
                store.lock_sessions(r.session_id for r in requests),
                store.message_sessions(r.reply_to_message_id for r in requests if r.reply_to_message_id))
            existing, sessions = store.by_client_id(found), store.sessions_by_id(locked)
            reply_sessions: dict[int, str] = dict(replies)

            accepted: list[int] = []
            repeats: dict[int, int] = {}  # index → index of the same key earlier in this batch
            first_with_key: dict[tuple[int, str, str], int] = {}
            for i, request in enumerate(requests):
                key = request.idempotency_key
                try:
                    if key is not None and key in existing:
                        outcomes[i] = Stored(existing[key], duplicate=True)
                    elif key is not None and key in first_with_key:
                        repeats[i] = first_with_key[key]
                    else:
                        check_sender(request, sessions.get(request.session_id))
                        check_reply(request, reply_sessions)
                        accepted.append(i)
                        if key is not None:
                            first_with_key[key] = i
                except SwitchboardError as exc:
                    outcomes[i] = exc

            # Allocate per session in queue order; sessions in the lock order.
            accepted.sort(key=lambda i: requests[i].session_id)
            last = {requests[i].session_id: sessions[requests[i].session_id].last_sequence for i in accepted}
            rows: list[NewMessageRow] = []
            offline: list[tuple[int, NewMessageRow]] = []
            for i in accepted:
                request, session = requests[i], sessions[requests[i].session_id]
                last[session.session_id] += 1
                row = NewMessageRow(
                    session_id=session.session_id, sender_role=request.sender_role, from_user_id=request.sender_id,
                    to_user_id=addressee(request, session), text=request.text, message_type=request.message_type,
                    reply_to_message_id=request.reply_to_message_id, client_msg_id=request.client_msg_id,
                    sequence_number=last[session.session_id])
                rows.append(row)
                offline.extend((uid, row) for uid in recipients(request, session))
            if not rows:
                await pipeline.run(commit=True)
            else:
                *_, found_new = await pipeline.run(
                    store.advance_sequences({sessions[sid].id: seq for sid, seq in last.items()}),
                    store.insert_messages(rows), store.insert_offline(offline), store.inserted(rows), commit=True)
                for i, message in zip(accepted, store.stored(rows, found_new), strict=True):
                    outcomes[i] = Stored(message, duplicate=False,
                                         publish_to=sessions[message.session_id].participants)

        for i, first in repeats.items():
            original = outcomes[first]
            outcomes[i] = Stored(original.message, duplicate=True) if isinstance(original, Stored) else original
        assert all(o is not None for o in outcomes)
        return outcomes  # type: ignore[return-value]
