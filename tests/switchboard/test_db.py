"""Pipelined transactions: several statements per round trip, and still all-or-nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aiomysql
import pymysql
import pytest

from switchboard.db import Statement, create_pool, pipelined, transaction


@pytest.fixture
async def pool(mysql_url: str) -> AsyncIterator[aiomysql.Pool]:
    pool = await create_pool(mysql_url, 2, multi_statements=True)
    yield pool
    pool.close()
    await pool.wait_closed()


@pytest.fixture
async def table(pool: aiomysql.Pool) -> AsyncIterator[str]:
    name = f"pipeline_{uuid.uuid4().hex[:8]}"
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(f"CREATE TABLE {name} (id INT PRIMARY KEY, note VARCHAR(20))")
    yield name
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(f"DROP TABLE {name}")


async def rows(pool: aiomysql.Pool, table: str) -> list[tuple[object, ...]]:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(f"SELECT id, note FROM {table} ORDER BY id")
        return list(await cur.fetchall())


async def test_each_statement_gets_its_own_rows_and_skipped_ones_get_none(pool: aiomysql.Pool, table: str) -> None:
    async with pipelined(pool) as pipeline:
        inserted, skipped, selected = await pipeline.run(
            Statement(f"INSERT INTO {table} VALUES (%s, %s), (%s, %s)", (1, "a;b", 2, "%s")),
            None,
            Statement(f"SELECT note FROM {table} WHERE id >= %s ORDER BY id", (1,)))
        assert (inserted, skipped, selected) == ([], [], [("a;b",), ("%s",)])
        (count,) = await pipeline.run(Statement(f"SELECT COUNT(*) FROM {table}"), commit=True)
        assert count == [(2,)]
    assert await rows(pool, table) == [(1, "a;b"), (2, "%s")]


async def test_a_failing_statement_rolls_back_the_whole_transaction(pool: aiomysql.Pool, table: str) -> None:
    with pytest.raises(pymysql.err.IntegrityError):
        async with pipelined(pool) as pipeline:
            await pipeline.run(Statement(f"INSERT INTO {table} VALUES (1, 'first')"))
            await pipeline.run(Statement(f"INSERT INTO {table} VALUES (2, 'second')"),
                               Statement(f"INSERT INTO {table} VALUES (1, 'again')"), commit=True)
    assert await rows(pool, table) == []
    async with pipelined(pool) as pipeline:  # the connection went back to the pool usable
        await pipeline.run(Statement(f"INSERT INTO {table} VALUES (3, 'later')"), commit=True)
    assert await rows(pool, table) == [(3, "later")]


async def test_an_error_between_round_trips_rolls_back(pool: aiomysql.Pool, table: str) -> None:
    with pytest.raises(LookupError):
        async with pipelined(pool) as pipeline:
            await pipeline.run(Statement(f"INSERT INTO {table} VALUES (1, 'first')"))
            raise LookupError("the caller's own check failed")
    assert await rows(pool, table) == []


async def test_a_cancelled_transaction_leaves_nothing_and_the_pool_keeps_working(
        pool: aiomysql.Pool, table: str) -> None:
    async def slow() -> None:
        async with pipelined(pool) as pipeline:
            await pipeline.run(Statement(f"INSERT INTO {table} VALUES (1, 'first')"), Statement("SELECT SLEEP(2)"))

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await rows(pool, table) == []
    async with pipelined(pool) as pipeline:
        await pipeline.run(Statement(f"INSERT INTO {table} VALUES (2, 'after')"), commit=True)
    assert await rows(pool, table) == [(2, "after")]


async def test_a_transaction_cancelled_mid_query_ends_in_its_cancellation(pool: aiomysql.Pool, table: str) -> None:
    """Not in an InterfaceError from rolling back on the connection aiomysql closed: a loop that survives errors
    would survive its own stop."""
    async def slow() -> None:
        async with transaction(pool) as cur:
            await cur.execute(f"INSERT INTO {table} VALUES (1, 'first')")
            await cur.execute("SELECT SLEEP(2)")

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await rows(pool, table) == []
    async with transaction(pool) as cur:
        await cur.execute(f"INSERT INTO {table} VALUES (2, 'after')")
    assert await rows(pool, table) == [(2, "after")]
