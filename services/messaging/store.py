"""All SQL of the messaging service. Functions return plain dataclasses; rules (who may do what) live in the
callers, except where a rule is a single statement's WHERE clause.

Times are read with ``UNIX_TIMESTAMP()`` so they are UTC whatever the connection's time zone is.

Locking statements force the index of their keys: on a small table the optimizer would rather scan it all,
and under REPEATABLE READ a scanning locking statement locks every row it reads, not only the ones it changes
(measured: batch writers deadlocked on sessions they never touched). Rows are locked in index order
(sessions by ``session_id``, messages by ``id`` or sequence), so concurrent batches do not deadlock each
other; deadlocks still possible between different kinds of work are retried by :func:`retrying`.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import aiomysql

from services.messaging.retry_store import RetryQueueStatements
from services.messaging.session_store import SESSION_COLUMNS as _SESSION_COLUMNS
from services.messaging.session_store import SessionRow, SessionStatements, participants
from services.messaging.session_store import session_row as _session
from switchboard.db import Rows, Statement, pipelined, placeholders
from switchboard.errors import Unavailable

log = logging.getLogger(__name__)

T = TypeVar("T")



@dataclasses.dataclass(frozen=True, slots=True)
class MessageRow:
    id: int
    session_id: str
    sender_role: str
    from_user_id: int
    to_user_id: int | None
    text: str
    message_type: str
    reply_to_message_id: int | None
    client_msg_id: str | None
    status: str
    sent_at: float
    sequence_number: int


@dataclasses.dataclass(frozen=True, slots=True)
class NewMessageRow:
    """A message about to be inserted: its sequence number is allocated, its id is not known yet."""

    session_id: str
    sender_role: str
    from_user_id: int
    to_user_id: int | None
    text: str
    message_type: str
    reply_to_message_id: int | None
    client_msg_id: str | None
    sequence_number: int


@dataclasses.dataclass(frozen=True, slots=True)
class ReceiptTarget:
    """A message as a receipt sees it: who sent it and who takes part in its session."""

    id: int
    session_id: str
    from_user_id: int
    sequence_number: int
    status: str
    session_user_id: int
    session_agent_id: int | None
    sent_at: float  # epoch seconds: a delivered receipt measures the delivery latency from it

    @property
    def participants(self) -> tuple[int, ...]:
        return participants(self.session_user_id, self.session_agent_id)


@dataclasses.dataclass(frozen=True, slots=True)
class StatusChangeRow:
    message_id: int
    session_id: str
    sender_id: int
    status: str
    at: float


@dataclasses.dataclass(frozen=True, slots=True)
class PendingRow:
    offline_id: int
    message: MessageRow


_MESSAGE_COLUMNS = (
    "m.id, m.session_id, m.sender_role, m.from_user_id, m.to_user_id, m.message, m.message_type,"
    " m.reply_to_message_id, m.client_msg_id, m.status, UNIX_TIMESTAMP(m.sent_at), m.sequence_number"
)


def _message(row: Sequence[Any]) -> MessageRow:
    return MessageRow(
        id=row[0], session_id=row[1], sender_role=row[2], from_user_id=row[3], to_user_id=row[4] or None,
        text=row[5], message_type=row[6], reply_to_message_id=row[7] or None, client_msg_id=_text(row[8]),
        status=row[9], sent_at=float(row[10] or 0), sequence_number=row[11],
    )


def _text(value: str | bytes | None) -> str | None:
    """A binary column's value (``client_msg_id``) as the text it was stored from."""
    return value.decode() if isinstance(value, bytes) else value


class Store(RetryQueueStatements, SessionStatements):
    """Every statement of the service; the retry queue's are in :mod:`services.messaging.retry_store`, the
    session list's in :mod:`services.messaging.session_store`."""

    async def ping(self) -> bool:
        return bool(await self._execute("SELECT 1"))

    # --- sessions -------------------------------------------------------------------------------------------

    async def open_session(self, user_id: int) -> tuple[SessionRow, bool]:
        """The customer's open session, created when it has none; and whether it was created. A customer has at
        most one open session: opening again returns it, so a client looping on ``open_session`` creates one row.
        A named lock per customer serialises concurrent opens (on any replica)."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            lock = f"sb-open-session-{user_id}"
            await cur.execute("SELECT GET_LOCK(%s, 10)", (lock,))
            if (await cur.fetchone())[0] != 1:
                raise Unavailable("too many concurrent open_session calls for this user; retry")
            try:
                await cur.execute(
                    f"SELECT {_SESSION_COLUMNS} FROM chat_sessions WHERE user_id = %s AND status = 'open'"
                    " ORDER BY id DESC LIMIT 1", (user_id,))
                row = await cur.fetchone()
                if row is not None:
                    return _session(row), False
                await cur.execute("INSERT INTO chat_sessions (session_id, user_id) VALUES (%s, %s)",
                                  (str(uuid.uuid4()), user_id))
                await cur.execute(f"SELECT {_SESSION_COLUMNS} FROM chat_sessions WHERE id = %s", (cur.lastrowid,))
                return _session(await cur.fetchone()), True
            finally:
                await cur.execute("DO RELEASE_LOCK(%s)", (lock,))

    async def get_session(self, session_id: str) -> SessionRow | None:
        rows = await self._execute(f"SELECT {_SESSION_COLUMNS} FROM chat_sessions WHERE session_id = %s", (session_id,))
        return _session(rows[0]) if rows else None

    async def open_sessions_of(self, user_id: int) -> list[SessionRow]:
        """Open sessions the user takes part in, as customer or as agent (one index each, hence the UNION)."""
        rows = await self._execute(
            f"SELECT {_SESSION_COLUMNS} FROM chat_sessions FORCE INDEX (idx_chat_sessions_user)"
            " WHERE user_id = %s AND status = 'open'"
            f" UNION SELECT {_SESSION_COLUMNS} FROM chat_sessions FORCE INDEX (idx_chat_sessions_agent)"
            " WHERE agent_id = %s AND status = 'open' ORDER BY id", (user_id, user_id))
        return [_session(row) for row in rows]

    async def latest_open_session(self, user_id: int) -> SessionRow | None:
        rows = await self._execute(
            f"SELECT {_SESSION_COLUMNS} FROM chat_sessions WHERE user_id = %s AND status = 'open'"
            " ORDER BY id DESC LIMIT 1", (user_id,))
        return _session(rows[0]) if rows else None

    @staticmethod
    async def lock_session(cur: aiomysql.Cursor, session_id: str) -> SessionRow | None:
        await cur.execute(
            f"SELECT {_SESSION_COLUMNS} FROM chat_sessions WHERE session_id = %s FOR UPDATE", (session_id,))
        row = await cur.fetchone()
        return _session(row) if row else None

    @staticmethod
    async def set_agent(cur: aiomysql.Cursor, session_pk: int, agent_id: int) -> None:
        await cur.execute("UPDATE chat_sessions SET agent_id = %s WHERE id = %s", (agent_id, session_pk))

    # --- the batch write (statements for one pipelined transaction, driven by writer.BatchWriter) -------------

    def pipelined(self) -> pipelined:
        return pipelined(self.pool)

    @staticmethod
    def find_by_client_ids(keys: Iterable[tuple[int, str, str]]) -> Statement | None:
        """Messages already stored under these idempotency keys (sender, session, client_msg_id; parsed by
        :func:`by_client_id`). The key column is binary, so equality is byte for byte (``ABC``, ``abc `` and
        ``àbc`` are not ``abc``); each key is one eq_ref lookup on the unique key."""
        wanted = sorted(set(keys))
        if not wanted:
            return None
        keys_table = " UNION ALL ".join(["SELECT %s AS u, %s AS s, %s AS c"] * len(wanted))
        return Statement(
            f"SELECT w.u, w.s, w.c, {_MESSAGE_COLUMNS} FROM ({keys_table}) w JOIN chat_messages m"
            " ON m.from_user_id = w.u AND m.session_id = w.s AND m.client_msg_id = CAST(w.c AS BINARY)",
            [v for key in wanted for v in key])

    @staticmethod
    def by_client_id(rows: Rows) -> dict[tuple[int, str, str], MessageRow]:
        """:meth:`find_by_client_ids`'s rows by the key as asked."""
        return {(row[0], row[1], _text(row[2]) or ""): _message(row[3:]) for row in rows}

    @staticmethod
    def lock_sessions(session_ids: Iterable[str]) -> Statement | None:
        """Lock the sessions' rows until commit, in ``session_id`` order (the unique index forced, so only these
        rows are locked and always in the same order). While the lock is held nobody else can advance
        ``last_sequence``: the values read here plus this transaction's own rows stay gap-free."""
        ids = sorted(set(session_ids))
        if not ids:
            return None
        return Statement(
            f"SELECT {_SESSION_COLUMNS} FROM chat_sessions FORCE INDEX (uq_chat_sessions_session)"
            f" WHERE session_id IN ({placeholders(len(ids))}) ORDER BY session_id FOR UPDATE", ids)

    @staticmethod
    def sessions_by_id(rows: Rows) -> dict[str, SessionRow]:
        return {row.session_id: row for row in map(_session, rows)}

    @staticmethod
    def message_sessions(message_ids: Iterable[int]) -> Statement | None:
        """``(message id, session id)`` rows, to check that replies stay in their session."""
        ids = sorted(set(message_ids))
        if not ids:
            return None
        return Statement(f"SELECT id, session_id FROM chat_messages WHERE id IN ({placeholders(len(ids))})", ids)

    @staticmethod
    def advance_sequences(last_sequence_by_pk: dict[int, int]) -> Statement:
        """Store each locked session's new ``last_sequence`` in one statement (by primary key)."""
        pks = sorted(last_sequence_by_pk)
        cases = " ".join(["WHEN %s THEN %s"] * len(pks))
        args = [v for pk in pks for v in (pk, last_sequence_by_pk[pk])]
        return Statement(
            f"UPDATE chat_sessions FORCE INDEX (PRIMARY) SET last_sequence = CASE id {cases} END"
            f" WHERE id IN ({placeholders(len(pks))})",
            (*args, *pks))

    @staticmethod
    def insert_messages(rows: Sequence[NewMessageRow]) -> Statement:
        """One multi-row INSERT (aiomysql's executemany may send a statement per row)."""
        values = [
            v for r in rows for v in (
                r.session_id, r.sender_role, r.from_user_id, r.to_user_id, r.text, r.message_type,
                r.reply_to_message_id, r.client_msg_id, r.sequence_number)
        ]
        group = "(%s, %s, %s, %s, %s, %s, %s, %s, 'sent', NOW(3), %s)"
        return Statement(
            "INSERT INTO chat_messages (session_id, sender_role, from_user_id, to_user_id, message, message_type,"
            " reply_to_message_id, client_msg_id, status, sent_at, sequence_number) VALUES "
            + ", ".join([group] * len(rows)), values)

    @staticmethod
    def insert_offline(rows: Sequence[tuple[int, NewMessageRow]]) -> Statement | None:
        """``(recipient, message)`` pairs, in (session, sequence) order so ``offline_messages.id`` follows it.
        The message ids come from the rows just inserted, found by their (session, sequence) key inside the
        statement: no assumption about how the server hands out auto-increment values, and no round trip."""
        if not rows:
            return None
        wanted = " UNION ALL ".join(["SELECT %s AS o, %s AS u, %s AS s, %s AS q"] * len(rows))
        return Statement(
            "INSERT INTO offline_messages (user_id, message_id, session_id, sequence_number)"
            f" SELECT w.u, m.id, m.session_id, m.sequence_number FROM ({wanted}) w"
            " JOIN chat_messages m FORCE INDEX (uq_chat_messages_session_sequence)"
            " ON m.session_id = w.s AND m.sequence_number = w.q ORDER BY w.o",
            [v for i, (uid, r) in enumerate(rows) for v in (i, uid, r.session_id, r.sequence_number)])

    @staticmethod
    def inserted(rows: Sequence[NewMessageRow]) -> Statement:
        """The new rows' ids and ``sent_at``, by the unique (session, sequence) key (parsed by :meth:`stored`)."""
        ranges: dict[str, list[int]] = {}
        for r in rows:
            lo_hi = ranges.setdefault(r.session_id, [r.sequence_number, r.sequence_number])
            lo_hi[0], lo_hi[1] = min(lo_hi[0], r.sequence_number), max(lo_hi[1], r.sequence_number)
        where = " OR ".join(["(session_id = %s AND sequence_number BETWEEN %s AND %s)"] * len(ranges))
        return Statement(
            f"SELECT session_id, sequence_number, id, UNIX_TIMESTAMP(sent_at) FROM chat_messages WHERE {where}",
            [v for sid, (lo, hi) in ranges.items() for v in (sid, lo, hi)])

    @staticmethod
    def stored(rows: Sequence[NewMessageRow], found: Rows) -> list[MessageRow]:
        """The inserted messages as stored, in the order of ``rows``."""
        by_key = {(row[0], row[1]): (row[2], float(row[3])) for row in found}
        out = []
        for r in rows:
            msg_id, sent_at = by_key[(r.session_id, r.sequence_number)]
            out.append(MessageRow(
                id=msg_id, session_id=r.session_id, sender_role=r.sender_role, from_user_id=r.from_user_id,
                to_user_id=r.to_user_id, text=r.text, message_type=r.message_type,
                reply_to_message_id=r.reply_to_message_id, client_msg_id=r.client_msg_id, status="sent",
                sent_at=sent_at, sequence_number=r.sequence_number))
        return out

    # --- reads ------------------------------------------------------------------------------------------------

    async def get_messages(self, message_ids: Iterable[int]) -> dict[int, MessageRow]:
        ids = sorted(set(message_ids))
        if not ids:
            return {}
        rows = await self._execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM chat_messages m WHERE m.id IN ({placeholders(len(ids))})", ids)
        return {msg.id: msg for msg in map(_message, rows)}

    async def history(self, session_id: str, after_sequence: int, limit: int) -> list[MessageRow]:
        rows = await self._execute(
            f"SELECT {_MESSAGE_COLUMNS} FROM chat_messages m WHERE m.session_id = %s AND m.sequence_number > %s"
            " ORDER BY m.sequence_number LIMIT %s", (session_id, after_sequence, limit))
        return [_message(row) for row in rows]

    async def pending(self, user_id: int, after_id: int, limit: int) -> list[PendingRow]:
        """Undelivered messages of a user in ``offline_messages.id`` order. Per session that is sequence order:
        a session's rows are inserted while its row lock is held, in sequence order, so a later sequence
        always gets a later auto-increment id. The index (user_id, delivered, id) serves it as a range scan."""
        rows = await self._execute(
            f"SELECT o.id, {_MESSAGE_COLUMNS} FROM offline_messages o JOIN chat_messages m ON m.id = o.message_id"
            " WHERE o.user_id = %s AND o.delivered = FALSE AND o.id > %s ORDER BY o.id LIMIT %s",
            (user_id, after_id, limit))
        return [PendingRow(row[0], _message(row[1:])) for row in rows]

    # --- receipts (statements for pipelined transactions, driven by receipts.Receipts) -------------------------

    NOW = Statement("SELECT NOW(3), UNIX_TIMESTAMP(NOW(3))")

    @staticmethod
    def clock(rows: Rows) -> tuple[Any, float]:
        """:attr:`NOW`'s row: the server's clock as a value to store (connection time zone) and as a UTC epoch,
        the same instant."""
        return rows[0][0], float(rows[0][1])

    @staticmethod
    def receipt_targets(message_ids: Iterable[int], for_update: bool) -> tuple[Statement | None, Statement | None]:
        """The messages (locked in id order when ``for_update``) and their sessions' participants, parsed by
        :meth:`targets`; the sessions are not locked, so receipts never wait for a batch writer holding a
        session row."""
        ids = sorted(set(message_ids))
        if not ids:
            return None, None
        where = f"WHERE id IN ({placeholders(len(ids))})"
        return (
            Statement("SELECT id, session_id, from_user_id, sequence_number, status, UNIX_TIMESTAMP(sent_at)"
                      " FROM chat_messages"
                      f" FORCE INDEX (PRIMARY) {where} ORDER BY id" + (" FOR UPDATE" if for_update else ""), ids),
            Statement("SELECT session_id, user_id, agent_id FROM chat_sessions WHERE session_id IN"
                      f" (SELECT session_id FROM chat_messages {where})", ids),
        )

    @staticmethod
    def targets(messages: Rows, sessions: Rows) -> dict[int, ReceiptTarget]:
        people = {row[0]: (row[1], row[2] or None) for row in sessions}
        found = {}
        for message_id, session_id, from_user_id, sequence_number, status, sent_at in messages:
            user_id, agent_id = people[session_id]
            found[message_id] = ReceiptTarget(
                message_id, session_id, from_user_id, sequence_number, status, user_id, agent_id, float(sent_at or 0))
        return found

    @staticmethod
    def mark_delivered(
        receipts: Sequence[tuple[int, Sequence[ReceiptTarget]]], now: Any, now_epoch: float
    ) -> tuple[list[list[StatusChangeRow]], list[Statement]]:
        """sent → delivered for the locked targets of a batch of receipts ``(recipient, targets)`` (never
        backwards), and the recipients' offline rows: two statements per batch, whatever its size. A message
        acknowledged twice in one batch (two devices) changes once. One list of changes per receipt."""
        changed: set[int] = set()
        changes: list[list[StatusChangeRow]] = []
        for _, targets in receipts:
            fresh = [t for t in targets if t.status == "sent" and t.id not in changed]
            changed.update(t.id for t in fresh)
            changes.append([StatusChangeRow(t.id, t.session_id, t.from_user_id, "delivered", now_epoch) for t in fresh])
        statements = []
        if changed:
            statements.append(Statement(
                "UPDATE chat_messages FORCE INDEX (PRIMARY) SET status = 'delivered', delivered_at = %s"
                f" WHERE id IN ({placeholders(len(changed))}) AND status = 'sent'", (now, *sorted(changed))))
        pairs = sorted({(recipient, t.id) for recipient, targets in receipts for t in targets})
        if pairs:
            statements.append(Statement(
                "UPDATE offline_messages FORCE INDEX (uq_offline_messages_user_message) SET delivered = TRUE,"
                f" delivered_at = %s WHERE (user_id, message_id) IN ({placeholders(len(pairs), 2)})"
                " AND delivered = FALSE",
                (now, *(v for pair in pairs for v in pair))))
        return changes, statements

    @staticmethod
    def read_up_to(reader: int, session_id: str, sequence_number: int, now: Any) -> list[Statement]:
        """Everything others sent in the session up to ``sequence_number`` becomes read (from sent or
        delivered), and the reader's offline rows for them are done. The first statement locks the rows that
        change, in sequence order, and returns them (``(id, sender)``: parse with :meth:`read_changes`); the
        UPDATE that follows has the same predicate, so it changes exactly those."""
        mine = (" WHERE session_id = %s AND sequence_number <= %s AND from_user_id <> %s"
                " AND status IN ('sent', 'delivered')")
        args = (session_id, sequence_number, reader)
        return [
            Statement("SELECT id, from_user_id FROM chat_messages FORCE INDEX (uq_chat_messages_session_sequence)"
                      + mine + " ORDER BY sequence_number FOR UPDATE", args),
            Statement("UPDATE chat_messages FORCE INDEX (uq_chat_messages_session_sequence) SET status = 'read',"
                      " read_at = %s, delivered_at = COALESCE(delivered_at, %s)" + mine, (now, now, *args)),
            Statement("UPDATE offline_messages FORCE INDEX (idx_offline_messages_pending) SET delivered = TRUE,"
                      " delivered_at = %s WHERE user_id = %s AND delivered = FALSE AND session_id = %s"
                      " AND sequence_number <= %s", (now, reader, session_id, sequence_number)),
        ]

    @staticmethod
    def read_changes(session_id: str, rows: Rows, now_epoch: float) -> list[StatusChangeRow]:
        return [StatusChangeRow(r[0], session_id, r[1], "read", now_epoch) for r in rows]

    # --- delivery -------------------------------------------------------------------------------------------

    async def unacknowledged(self, message_ids: Iterable[int]) -> dict[int, list[int]]:
        """Per message, the recipients whose devices have not acknowledged it (the FK index on message_id)."""
        ids = sorted(set(message_ids))
        if not ids:
            return {}
        rows = await self._execute(
            "SELECT message_id, user_id FROM offline_messages WHERE delivered = FALSE"
            f" AND message_id IN ({placeholders(len(ids))}) ORDER BY message_id, user_id", ids)
        waiting: dict[int, list[int]] = {}
        for message_id, user_id in rows:
            waiting.setdefault(message_id, []).append(user_id)
        return waiting

    async def offline_backlog(self) -> int:
        """Rows not acknowledged yet, every age: a range of ``idx_offline_messages_undelivered``."""
        rows = await self._execute(
            "SELECT COUNT(*) FROM offline_messages FORCE INDEX (idx_offline_messages_undelivered)"
            " WHERE delivered = FALSE")
        return int(rows[0][0])

    async def undelivered_since(self, oldest_seconds: float, newest_seconds: float,
                                limit: int) -> list[tuple[int, int]]:
        """``(user_id, message_id)`` of rows not acknowledged, created between ``oldest_seconds`` and
        ``newest_seconds`` ago, newest first (index ``idx_offline_messages_undelivered``): what the delivery
        sweep looks at. Newest first, so a backlog of an offline user cannot hide a fresh lost push."""
        rows = await self._execute(
            "SELECT user_id, message_id FROM offline_messages FORCE INDEX (idx_offline_messages_undelivered)"
            " WHERE delivered = FALSE AND created_at BETWEEN NOW(3) - INTERVAL %s MICROSECOND"
            " AND NOW(3) - INTERVAL %s MICROSECOND ORDER BY created_at DESC LIMIT %s",
            (int(oldest_seconds * 1e6), int(newest_seconds * 1e6), limit))
        return [(int(user_id), int(message_id)) for user_id, message_id in rows]
