"""The retry queue's SQL (``message_queue``): rows written when a publish failed, claimed by the replicas'
retry workers with ``FOR UPDATE SKIP LOCKED`` and a lease, completed, rescheduled or failed. A base of
:class:`~services.messaging.store.Store`, kept apart because it is its own small state machine."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiomysql

from switchboard.db import placeholders, retry_transient, retrying, transaction

if TYPE_CHECKING:
    from services.messaging.store import MessageRow


@dataclasses.dataclass(frozen=True, slots=True)
class RetryJob:
    id: int
    message_id: int
    to_user_id: int | None
    retry_count: int
    max_retries: int


class Database:
    """A pool and the two ways this service's statements run on it."""

    def __init__(self, pool: aiomysql.Pool) -> None:
        self.pool = pool

    def transaction(self) -> transaction:
        return transaction(self.pool)

    async def _execute(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """One autocommitted statement; its rows, if it returns any."""
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(sql, args)
            return list(await cur.fetchall())


class RetryQueueStatements(Database):
    """``message_queue``'s statements; :class:`~services.messaging.store.Store` inherits them."""

    @retry_transient
    async def enqueue_retries(self, items: Sequence[tuple[MessageRow, Sequence[int]]], delay_seconds: float,
                              max_retries: int) -> None:
        """One row per (message, recipient), every message in one multi-row INSERT."""
        rows = [(m, uid) for m, user_ids in items for uid in user_ids]
        if not rows:
            return
        async with self.pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(
                "INSERT INTO message_queue (message_id, session_id, from_user_id, to_user_id, max_retries,"
                " next_retry_at) VALUES "
                + ", ".join(["(%s, %s, %s, %s, %s, NOW(3) + INTERVAL %s MICROSECOND)"] * len(rows)),
                [v for m, uid in rows for v in (
                    m.id, m.session_id, m.from_user_id, uid, max_retries, int(delay_seconds * 1e6))])

    @retry_transient
    async def retry_due_now(self) -> None:
        """Every pending retry is due at once: NATS is back, there is no reason to wait out a backoff."""
        await self._execute(
            "UPDATE message_queue SET next_retry_at = NOW(3) WHERE status = 'pending' AND next_retry_at > NOW(3)")

    async def claim_retries(self, limit: int, lease_seconds: float) -> list[RetryJob]:
        """Take due rows for this worker. SKIP LOCKED lets several replicas claim disjoint rows at once (the
        index on (status, next_retry_at) yields them in order, so only the rows taken are locked); the claim
        commits ``processing`` with a lease in ``next_retry_at``."""

        async def claim() -> list[RetryJob]:
            async with self.transaction() as cur:
                await cur.execute(
                    "SELECT id, message_id, to_user_id, retry_count, max_retries FROM message_queue"
                    " WHERE status = 'pending' AND next_retry_at <= NOW(3)"
                    " ORDER BY next_retry_at LIMIT %s FOR UPDATE SKIP LOCKED", (limit,))
                jobs = [RetryJob(*row) for row in await cur.fetchall()]
                if jobs:
                    await cur.execute(
                        "UPDATE message_queue FORCE INDEX (PRIMARY) SET status = 'processing',"
                        " next_retry_at = NOW(3) + INTERVAL %s MICROSECOND"
                        f" WHERE id IN ({placeholders(len(jobs))})",
                        (int(lease_seconds * 1e6), *(j.id for j in jobs)))
                return jobs

        return await retrying(claim)

    @retry_transient
    async def release_expired_leases(self) -> None:
        """Rows still ``processing`` after their lease belong to a worker that died: make them pending again
        rather than leave them stuck."""
        await self._execute(
            "UPDATE message_queue SET status = 'pending' WHERE status = 'processing' AND next_retry_at <= NOW(3)")

    @retry_transient
    async def complete_retries(self, job_ids: Sequence[int]) -> None:
        if job_ids:
            await self._execute(
                "UPDATE message_queue FORCE INDEX (PRIMARY) SET status = 'completed'"
                f" WHERE id IN ({placeholders(len(job_ids))})",
                job_ids)

    @retry_transient
    async def reschedule_retry(self, job: RetryJob, error: str, delay_seconds: float) -> str:
        """One more failed attempt: due again after ``delay_seconds``, or ``failed`` when attempts run out
        (the message stays in ``offline_messages``, so its recipient still gets it at the next registration)."""
        status = "failed" if job.retry_count + 1 >= job.max_retries else "pending"
        await self._execute(
            "UPDATE message_queue SET retry_count = retry_count + 1, status = %s, error_message = %s,"
            " next_retry_at = NOW(3) + INTERVAL %s MICROSECOND WHERE id = %s",
            (status, error[:2000], int(delay_seconds * 1e6), job.id))
        return status

    async def retry_queue_depth(self) -> int:
        rows = await self._execute("SELECT COUNT(*) FROM message_queue WHERE status IN ('pending', 'processing')")
        return int(rows[0][0])
