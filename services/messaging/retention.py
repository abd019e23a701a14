"""Retention: rows nobody needs any more are deleted after an age, a few hundred at a time.

Three kinds of row only grow otherwise: acknowledged ``offline_messages`` rows (the index of what a user has not
received yet keeps them once delivered), finished (``completed``/``failed``) ``message_queue`` rows, and — when
``history_retention_seconds`` is set — the chat history itself. Each is cleaned by walking its primary key in
windows of ``retention_batch`` rows: one plain (non-locking) SELECT reads a window, and the eligible ids of it
are deleted by primary key. A DELETE by primary key locks just those rows — no range, no gap — and commits at
once, so the batch writer's inserts and the receipts' updates never wait behind a clean-up for longer than one
small statement; ``retention_pause_seconds`` between windows leaves the database to them. A pass over a table
ends at the first window holding no row older than the age (ids grow with time), so a pass reads the old part
of each table only.

History is removed for **closed** sessions only: an open conversation never loses its beginning while its
participants still page through it. A message's dependent ``offline_messages`` and ``message_queue`` rows (the
foreign keys point at it) go in the same transaction, before it. The session row stays, with its sequence.

Every replica runs the worker, but a pass first takes a MySQL named lock (``GET_LOCK``, not waiting): one
replica cleans at a time and the others skip that pass. Deleting twice would be harmless — DELETE is
idempotent — the lock just keeps two replicas from reading the same windows for nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import aiomysql

from services.messaging import metrics
from services.messaging.settings import Settings
from switchboard.db import placeholders, retry_transient, transaction
from switchboard.workers import PeriodicWorker

log = logging.getLogger(__name__)

# A progress line every this many windows of a long pass.
PROGRESS_WINDOWS = 50


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """What one table keeps: ``eligible`` is a condition on its row with one ``%s`` (the age in seconds);
    ``deletes`` are ``(table, statement)`` run in one transaction for the eligible ids (``{ids}``)."""

    table: str
    age_setting: str
    eligible: str
    deletes: tuple[tuple[str, str], ...]


TARGETS = (
    Target("offline_messages", "delivered_retention_seconds",
           "delivered AND created_at < NOW(3) - INTERVAL %s SECOND",
           (("offline_messages", "DELETE FROM offline_messages WHERE delivered AND id IN ({ids})"),)),
    Target("message_queue", "retry_queue_retention_seconds",
           "status IN ('completed', 'failed') AND updated_at < NOW(3) - INTERVAL %s SECOND",
           (("message_queue",
             "DELETE FROM message_queue WHERE status IN ('completed', 'failed') AND id IN ({ids})"),)),
    Target("chat_messages", "history_retention_seconds",
           "created_at < NOW(3) - INTERVAL %s SECOND"
           " AND session_id IN (SELECT session_id FROM chat_sessions WHERE status = 'closed')",
           (("offline_messages", "DELETE FROM offline_messages WHERE message_id IN ({ids})"),
            ("message_queue", "DELETE FROM message_queue WHERE message_id IN ({ids})"),
            ("chat_messages", "DELETE FROM chat_messages WHERE id IN ({ids})"))),
)


class Retention(PeriodicWorker):
    name = "retention"
    passes = metrics.RETENTION_PASSES

    def __init__(self, pool: aiomysql.Pool, database: str, settings: Settings) -> None:
        self._pool, self._settings = pool, settings
        self._lock_name = f"switchboard.retention.{database}"[:64]  # one MySQL server may hold several deployments

    def interval(self) -> float:
        return self._settings.retention_interval_seconds

    async def run_once(self) -> dict[str, int] | None:
        return await self.clean_once()

    async def clean_once(self) -> dict[str, int] | None:
        """One pass over every table with a retention age; rows deleted by table, or ``None`` when another
        replica holds the lock."""
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT GET_LOCK(%s, 0)", (self._lock_name,))
            if (await cur.fetchone())[0] != 1:
                log.info("retention skipped: another replica is cleaning")
                return None
            try:
                deleted: dict[str, int] = {}
                for target in TARGETS:
                    age = getattr(self._settings, target.age_setting)
                    if age > 0:
                        for table, count in (await self._clean(target, age)).items():
                            deleted[table] = deleted.get(table, 0) + count
                return deleted
            finally:
                await cur.execute("DO RELEASE_LOCK(%s)", (self._lock_name,))

    async def _clean(self, target: Target, age: int) -> dict[str, int]:
        deleted = dict.fromkeys((table for table, _ in target.deletes), 0)
        start, windows = 0, 0
        while True:
            rows = await self._window(target, age, start)
            if not rows:
                break
            ids = [row_id for row_id, _, eligible in rows if eligible]
            if ids:
                for table, count in (await self._delete(target, ids)).items():
                    deleted[table] += count
                    metrics.RETENTION_DELETED.labels(table).inc(count)
            windows += 1
            if windows % PROGRESS_WINDOWS == 0:
                log.info("retention in progress", extra={"table": target.table, "deleted": deleted,
                                                         "windows": windows, "last_id": rows[-1][0]})
            if not any(old for _, old, _ in rows):
                break  # this window is younger than the age; every later id is too
            start = rows[-1][0] + 1
            await asyncio.sleep(self._settings.retention_pause_seconds)
        if any(deleted.values()):
            log.info("retention done", extra={"table": target.table, "deleted": deleted, "windows": windows})
        return deleted

    @retry_transient
    async def _window(self, target: Target, age: int, start: int) -> list[tuple[int, int, int]]:
        """``(id, older than the age, eligible)`` of the next window of primary keys; reads lock nothing."""
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(
                f"SELECT id, created_at < NOW(3) - INTERVAL %s SECOND, {target.eligible} FROM {target.table}"
                " WHERE id >= %s ORDER BY id LIMIT %s", (age, age, start, self._settings.retention_batch))
            return [(int(row_id), int(old), int(eligible or 0)) for row_id, old, eligible in await cur.fetchall()]

    @retry_transient
    async def _delete(self, target: Target, ids: list[int]) -> dict[str, int]:
        counts: dict[str, int] = {}
        async with transaction(self._pool) as cur:
            for table, statement in target.deletes:
                counts[table] = counts.get(table, 0) + await cur.execute(
                    statement.format(ids=placeholders(len(ids))), ids)
        return counts
