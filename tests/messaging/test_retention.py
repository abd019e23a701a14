"""Retention against the real database: what goes, what stays, one replica at a time, and sends that keep
succeeding while a large clean-up runs.

The module has a database of its own: a pass walks the whole of each table, and the rows are aged here by
rewriting their timestamps, which other modules' rows must not be mixed with.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiomysql
import pytest

from services.messaging.retention import Retention
from services.messaging.settings import Settings
from switchboard.db import MySQLURL, create_pool
from switchboard.runner import NatsServer
from tests.messaging.conftest import Messaging, running_messaging

DAY = 24 * 3600


@pytest.fixture(scope="module")
async def messaging(nats_server: NatsServer, run_dir: Path) -> AsyncIterator[Messaging]:
    async with running_messaging(nats_server, run_dir) as started:
        yield started


@pytest.fixture
async def pool(messaging: Messaging) -> AsyncIterator[aiomysql.Pool]:
    pool = await create_pool(messaging.system.mysql_url, 4)
    yield pool
    pool.close()
    await pool.wait_closed()


def retention(messaging: Messaging, pool: aiomysql.Pool, **overrides: int) -> Retention:
    """Ages of a day, small windows and no pause, so a test walks many windows quickly."""
    settings = Settings(**{"mysql_url": messaging.system.mysql_url, "retention_batch": 7,
                           "retention_pause_seconds": 0.0, "delivered_retention_seconds": DAY,
                           "retry_queue_retention_seconds": DAY, **overrides})
    return Retention(pool, MySQLURL.parse(settings.mysql_url).database, settings)


async def age_everything(messaging: Messaging) -> None:
    """Every row so far is two days old: as far as retention can tell, written the day before yesterday."""
    for table in ("chat_messages", "offline_messages", "message_queue"):
        await messaging.query(f"UPDATE {table} SET created_at = created_at - INTERVAL 2 DAY")
    await messaging.query("UPDATE message_queue SET updated_at = updated_at - INTERVAL 2 DAY")


async def queue(messaging: Messaging, message_id: int, status: str) -> None:
    await messaging.query(
        "INSERT INTO message_queue (message_id, session_id, from_user_id, status)"
        " SELECT id, session_id, from_user_id, %s FROM chat_messages WHERE id = %s", status, message_id)


async def count(messaging: Messaging, sql: str, *args: object) -> int:
    return int((await messaging.query(sql, *args))[0][0])


async def test_old_acknowledged_and_finished_rows_go_the_rest_stays(messaging: Messaging, pool: aiomysql.Pool) -> None:
    session, customer, agent = await messaging.session()
    old = [(await messaging.send(session.session_id, customer, text=f"old {i}")).message.id for i in range(20)]
    await messaging.query("UPDATE offline_messages SET delivered = TRUE, delivered_at = NOW(3)"
                          " WHERE user_id = %s AND message_id < %s", agent, old[15])  # the last 5: not yet
    for status in ("completed", "failed", "pending", "processing"):
        await queue(messaging, old[0], status)
    await age_everything(messaging)
    recent = (await messaging.send(session.session_id, customer, text="recent")).message.id
    await messaging.query("UPDATE offline_messages SET delivered = TRUE WHERE message_id = %s", recent)
    await queue(messaging, recent, "completed")

    deleted = await retention(messaging, pool).clean_once()

    assert deleted == {"offline_messages": 15, "message_queue": 2}
    assert [m for (m,) in await messaging.query(
        "SELECT message_id FROM offline_messages WHERE user_id = %s ORDER BY id", agent)] == [*old[15:], recent]
    assert [s for (s,) in await messaging.query("SELECT status FROM message_queue ORDER BY id")] == [
        "pending", "processing", "completed"]
    assert await count(messaging, "SELECT COUNT(*) FROM chat_messages WHERE session_id = %s",
                       session.session_id) == 21  # history is kept forever by default
    assert await retention(messaging, pool).clean_once() == {"offline_messages": 0, "message_queue": 0}


async def test_history_goes_for_closed_sessions_only_with_what_points_at_it(
        messaging: Messaging, pool: aiomysql.Pool) -> None:
    closed, customer, _ = await messaging.session()
    kept, other_customer, _ = await messaging.session()
    gone = [(await messaging.send(closed.session_id, customer, text=f"gone {i}")).message.id for i in range(10)]
    for i in range(10):
        await messaging.send(kept.session_id, other_customer, text=f"kept {i}")
    await queue(messaging, gone[3], "pending")
    await messaging.query("UPDATE chat_sessions SET status = 'closed' WHERE session_id = %s", closed.session_id)
    await age_everything(messaging)

    deleted = await retention(messaging, pool, history_retention_seconds=DAY).clean_once()

    assert deleted is not None and deleted["chat_messages"] == 10
    assert await count(messaging, "SELECT COUNT(*) FROM chat_messages WHERE session_id = %s",
                       closed.session_id) == 0
    assert await count(messaging, "SELECT COUNT(*) FROM chat_messages WHERE session_id = %s", kept.session_id) == 10
    assert await count(messaging, "SELECT COUNT(*) FROM offline_messages WHERE session_id = %s",
                       closed.session_id) == 0  # undelivered too: the message they index is gone
    assert await count(messaging, "SELECT COUNT(*) FROM message_queue WHERE message_id = %s", gone[3]) == 0
    assert await count(messaging, "SELECT last_sequence FROM chat_sessions WHERE session_id = %s",
                       closed.session_id) == 10  # the session row stays, with its sequence


async def test_one_replica_cleans_at_a_time(messaging: Messaging, pool: aiomysql.Pool) -> None:
    cleaner = retention(messaging, pool)
    other_replica = await pool.acquire()
    try:
        async with other_replica.cursor() as cur:
            await cur.execute("SELECT GET_LOCK(%s, 0)", (cleaner._lock_name,))
            assert await cleaner.clean_once() is None
            await cur.execute("DO RELEASE_LOCK(%s)", (cleaner._lock_name,))
    finally:
        pool.release(other_replica)
    assert await cleaner.clean_once() is not None


def numbers(digits: int) -> str:
    """A derived table of 0 … 10**digits − 1 (column ``n``) without a recursive CTE's depth limit."""
    ten = "(SELECT 0 d UNION ALL " + " UNION ALL ".join(f"SELECT {d}" for d in range(1, 10)) + ")"
    return ("(SELECT " + " + ".join(f"t{i}.d * {10**i}" for i in range(digits)) + " AS n FROM "
            + ", ".join(f"{ten} t{i}" for i in range(digits)) + ")")


async def test_sends_keep_succeeding_while_50k_rows_are_cleaned(messaging: Messaging, pool: aiomysql.Pool) -> None:
    session, customer, _ = await messaging.session()
    message = (await messaging.send(session.session_id, customer)).message
    await messaging.query(
        "INSERT INTO offline_messages (user_id, message_id, session_id, sequence_number, delivered, delivered_at,"
        f" created_at) SELECT 3000000000 + n, %s, %s, 1, TRUE, NOW(3), NOW(3) - INTERVAL 2 DAY FROM {numbers(5)} x"
        " WHERE n < 50000", message.id, session.session_id)
    cleaner = retention(messaging, pool, retention_batch=500)
    clean_up = asyncio.create_task(cleaner.clean_once())
    sent_during = 0
    while not clean_up.done():
        reply = await messaging.send(session.session_id, customer, text=f"during {sent_during}")
        assert reply.message.id > message.id
        sent_during += 1
    deleted = await clean_up

    assert deleted is not None and deleted["offline_messages"] == 50000
    assert sent_during > 0  # the batch writer committed while the clean-up ran, and every send succeeded
    assert await count(messaging, "SELECT COUNT(*) FROM chat_messages WHERE session_id = %s",
                       session.session_id) == sent_during + 1
