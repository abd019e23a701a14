"""The push state machine, in MySQL (``push_notifications``), so a SIGKILL loses nothing and a restart sends
nothing twice.

One row per (user, device, session): ``pending`` → ``sending`` → ``sent`` | ``failed`` | ``cancelled``, and
back to ``pending`` when a newer message of the session arrives. A message arriving while the row is pending
only moves ``message_id`` forward (collapse: the push shows the latest); while it is ``sending``, the row goes
back to ``pending`` when the send finishes, one collapse window after it. A message the row already knows
(a JetStream redelivery after a crash before the ack) changes nothing, so intake is idempotent.

``sending`` is a lease (``due_at`` is its end): a row whose process died mid-send is claimed again when the
lease runs out and sent again. The provider may or may not have taken the first attempt; sending again is the
choice that loses nothing, and it does not add a second notification on the device: every push carries the
session id as its collapse key (APNs ``apns-collapse-id``, FCM ``collapse_key``/``tag``, Web Push ``Topic``),
so the repeat replaces the notification it repeats."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiomysql

from switchboard.db import placeholders, retry_transient, transaction


@dataclasses.dataclass(frozen=True, slots=True)
class NewMessage:
    """A stored message for one of the recipient's devices."""

    user_id: int
    device_id: str
    session_id: str
    message_id: int
    stored_at: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    user_id: int
    device_id: str
    session_id: str
    message_id: int
    kind: str  # alert | withdraw
    stored_at: datetime
    attempts: int  # this one included
    shown: bool


# Every assignment is guarded by "is this message newer than what the row knows", and message_id is assigned
# last: MySQL evaluates ON DUPLICATE KEY UPDATE assignments left to right, each seeing the ones before it.
_SCHEDULE = """
    INSERT INTO push_notifications (user_id, device_id, session_id, message_id, stored_at, due_at)
    VALUES {rows}
    ON DUPLICATE KEY UPDATE
      due_at = IF(VALUES(message_id) <= message_id OR state IN ('pending', 'sending'), due_at,
                  GREATEST(VALUES(due_at), COALESCE(last_sent_at + INTERVAL %s MICROSECOND, VALUES(due_at)))),
      stored_at = IF(VALUES(message_id) <= message_id OR (state = 'pending' AND kind = 'alert'), stored_at,
                     VALUES(stored_at)),
      attempts = IF(VALUES(message_id) <= message_id OR state IN ('pending', 'sending'), attempts, 0),
      kind = IF(VALUES(message_id) <= message_id OR state = 'sending', kind, 'alert'),
      state = IF(VALUES(message_id) <= message_id OR state = 'sending', state, 'pending'),
      message_id = GREATEST(message_id, VALUES(message_id))
"""

_COLUMNS = "id, user_id, device_id, session_id, message_id, kind, stored_at, attempts, shown"


def _micros(seconds: float) -> int:
    return int(seconds * 1_000_000)


class PushStore:
    def __init__(self, pool: aiomysql.Pool) -> None:
        self._pool = pool

    async def ping(self) -> bool:
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT 1")
            return True

    @retry_transient
    async def schedule(self, items: Sequence[NewMessage], grace_seconds: float, collapse_seconds: float) -> None:
        """Record that these devices are to be told of these messages: due after the grace period, and no sooner
        than one collapse window after the device's last push of the session. One statement for the batch.
        (``VALUES()`` is deprecated in MySQL 8.0.20+ but still works there, and is the only form MariaDB has.)"""
        if not items:
            return
        rows = ", ".join(["(%s, %s, %s, %s, %s, NOW(3) + INTERVAL %s MICROSECOND)"] * len(items))
        args: list[Any] = []
        for i in sorted(items, key=lambda i: (i.user_id, i.device_id, i.session_id)):  # one lock order
            args += [i.user_id, i.device_id, i.session_id, i.message_id, i.stored_at, _micros(grace_seconds)]
        async with transaction(self._pool) as cur:
            await cur.execute(_SCHEDULE.format(rows=rows), (*args, _micros(collapse_seconds)))

    @retry_transient
    async def claim(self, limit: int, lease_seconds: float) -> list[Claimed]:
        """Due rows, pending or with an expired lease, marked ``sending`` for ``lease_seconds``; replicas share
        the table with ``SKIP LOCKED``."""
        async with transaction(self._pool) as cur:
            await cur.execute(
                f"SELECT {_COLUMNS} FROM push_notifications WHERE state IN ('pending', 'sending')"
                " AND due_at <= NOW(3) ORDER BY due_at LIMIT %s FOR UPDATE SKIP LOCKED", (limit,))
            rows = await cur.fetchall()
            if not rows:
                return []
            ids = [row[0] for row in rows]
            await cur.execute(
                "UPDATE push_notifications SET state = 'sending', attempts = attempts + 1,"
                f" due_at = NOW(3) + INTERVAL %s MICROSECOND WHERE id IN ({placeholders(len(ids))})",
                (_micros(lease_seconds), *ids))
        return [Claimed(id=i, user_id=u, device_id=d, session_id=s, message_id=m, kind=k, stored_at=at,
                        attempts=n + 1, shown=bool(shown)) for i, u, d, s, m, k, at, n, shown in rows]

    @retry_transient
    async def finish(self, claimed: Claimed, state: str, provider: str, detail: str, *, accepted: bool = False,
                     retry_in: float = 0.0, collapse_seconds: float = 0.0) -> None:
        """End a claim in ``state``. A message that arrived meanwhile (``message_id`` moved) puts the row back to
        ``pending`` one collapse window on, whatever this send's outcome; ``retry_in`` with ``state='pending'``
        reschedules the same push. A row whose lease another process took over is left alone."""
        alert = accepted and claimed.kind == "alert"
        async with transaction(self._pool) as cur:
            await cur.execute(
                """UPDATE push_notifications SET
                      kind = IF(message_id = %(m)s, kind, 'alert'),
                      state = IF(message_id = %(m)s, %(state)s, 'pending'),
                      due_at = NOW(3) + INTERVAL IF(message_id = %(m)s, %(retry)s, %(collapse)s) MICROSECOND,
                      attempts = IF(message_id = %(m)s, attempts, 0),
                      shown = IF(%(accepted)s, %(alert)s, shown),
                      pushed_message_id = IF(%(alert)s, %(m)s, pushed_message_id),
                      last_sent_at = IF(%(accepted)s, NOW(3), last_sent_at),
                      provider = COALESCE(%(provider)s, provider), detail = %(detail)s
                    WHERE id = %(id)s AND state = 'sending'""",
                {"m": claimed.message_id, "state": state, "retry": _micros(retry_in),
                 "collapse": _micros(collapse_seconds), "accepted": accepted, "alert": alert,
                 "provider": provider or None, "detail": detail[:255], "id": claimed.id})

    async def shown_alerts(self, horizon_seconds: float) -> list[tuple[int, int]]:
        """``(row id, message id)`` of the alerts devices show, pushed within the horizon: the candidates for a
        withdrawal once their message is read. A plain (non-locking) read."""
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT id, pushed_message_id FROM push_notifications WHERE state = 'sent' AND shown"
                " AND message_id = pushed_message_id AND last_sent_at > NOW(3) - INTERVAL %s MICROSECOND",
                (_micros(horizon_seconds),))
            return [(int(i), int(m)) for i, m in await cur.fetchall()]

    @retry_transient
    async def withdraw(self, rows: Sequence[tuple[int, int]]) -> None:
        """Turn these shown alerts into withdrawals due now, unless a newer message or another outcome came in
        between (the row's message and state are checked again). Only this table is written or locked:
        messaging's receipts are read apart, so they never wait on this service."""
        if not rows:
            return
        async with transaction(self._pool) as cur:
            await cur.execute(
                "UPDATE push_notifications SET kind = 'withdraw', state = 'pending', due_at = NOW(3), attempts = 0"
                f" WHERE state = 'sent' AND shown AND (id, message_id) IN ({placeholders(len(rows), 2)})",
                [value for row in sorted(rows) for value in row])

    async def depth(self) -> int:
        """Pushes waiting or in flight."""
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT COUNT(*) FROM push_notifications WHERE state IN ('pending', 'sending')")
            (count,) = await cur.fetchone()
            return int(count)
