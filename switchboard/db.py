"""MySQL access through one aiomysql pool per process."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ParamSpec, TypeVar
from urllib.parse import unquote, urlparse

import aiomysql
import pymysql
from pymysql.constants import CLIENT

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

DUPLICATE_KEY = 1062
# Lock wait timeout and deadlock: InnoDB rolled the transaction back, running it again is safe.
TRANSIENT = frozenset({1205, 1213})


@dataclasses.dataclass(frozen=True)
class MySQLURL:
    host: str
    port: int
    user: str
    password: str
    database: str

    @classmethod
    def parse(cls, url: str) -> MySQLURL:
        parsed = urlparse(url)
        if parsed.scheme not in {"mysql", "mariadb"}:
            raise ValueError(f"expected mysql://user:password@host:port/database, got {url!r}")
        return cls(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or 3306,
            user=unquote(parsed.username or "root"),
            password=unquote(parsed.password or ""),
            database=parsed.path.lstrip("/") or "switchboard",
        )

    def connect_kwargs(self, with_database: bool = True) -> dict[str, object]:
        kwargs: dict[str, object] = {
            "host": self.host, "port": self.port, "user": self.user, "password": self.password,
            "charset": "utf8mb4", "autocommit": True,
        }
        if with_database:
            kwargs["db"] = self.database
        return kwargs


async def create_pool(url: str, size: int = 10, multi_statements: bool = False) -> aiomysql.Pool:
    """A pool in autocommit mode: a single statement commits by itself; multi-statement work uses
    :func:`transaction`, so no connection goes back to the pool with an open transaction.
    ``multi_statements`` allows :class:`pipelined` transactions (several statements per round trip)."""
    target = MySQLURL.parse(url)
    return await aiomysql.create_pool(
        minsize=1, maxsize=size, pool_recycle=3600, client_flag=CLIENT.MULTI_STATEMENTS if multi_statements else 0,
        **target.connect_kwargs())


async def query_once(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """One statement on a connection of its own, closed after: for the operator tools and the tests, which read
    a handful of rows (a pool would only idle)."""
    conn = await aiomysql.connect(**MySQLURL.parse(url).connect_kwargs())
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql, args or None)
            return list(await cur.fetchall())
    finally:
        conn.close()


def placeholders(count: int, width: int = 1) -> str:
    """``%s, %s, …`` for an IN list (``width`` > 1: ``(%s, %s), …`` for row values)."""
    group = "%s" if width == 1 else "(" + ", ".join(["%s"] * width) + ")"
    return ", ".join([group] * count)


class transaction:
    """Borrow a connection, BEGIN, yield a cursor, COMMIT (or ROLLBACK on error)."""

    def __init__(self, pool: aiomysql.Pool) -> None:
        self._pool = pool

    async def __aenter__(self) -> aiomysql.Cursor:
        self._conn = await self._pool.acquire()
        await self._conn.begin()
        self._cur = await self._conn.cursor()
        return self._cur

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                await self._conn.commit()
            elif not self._conn.closed:
                await self._conn.rollback()
            # else: aiomysql closed the connection (a query cancelled mid-way): the server rolls back a transaction
            # whose connection ends, and a ROLLBACK here would raise InterfaceError in place of the cancellation,
            # which a worker loop that survives errors would then survive — and never stop.
        finally:
            await self._cur.close()
            self._pool.release(self._conn)


Rows = list[tuple[Any, ...]]


@dataclasses.dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement and its arguments, to be sent in a :class:`Pipeline` with others."""

    sql: str
    args: Sequence[Any] = ()


class Pipeline:
    """A transaction sent in as few round trips as its logic allows: each :meth:`run` sends several statements
    at once (MySQL's multi-statement protocol), the first ``run`` carries the BEGIN and ``run(commit=True)``
    the COMMIT. Why: on loopback a round trip costs both processes a syscall pair and a wake-up, and a
    transaction holds its locks for every round trip it makes; the send batch went from 8 to 2."""

    def __init__(self, cur: aiomysql.Cursor) -> None:
        self._cur = cur
        self.begun = self.committed = False

    async def run(self, *statements: Statement | None, commit: bool = False) -> list[Rows]:
        """The rows of each statement, in order (``[]`` for a ``None`` statement, which is not sent)."""
        if self.committed:
            raise RuntimeError("the transaction is committed")
        opening = not self.begun
        sent = [s for s in statements if s is not None]
        sql = (["BEGIN"] if opening else []) + [self._cur.mogrify(s.sql, s.args or None) for s in sent]
        if commit:
            sql.append("COMMIT")
        if not sql:
            return [[] for _ in statements]
        self.begun = True
        await self._cur.execute(";\n".join(sql))
        results = [list(await self._cur.fetchall())]  # every result set is read, or the connection desyncs
        while await self._cur.nextset():
            results.append(list(await self._cur.fetchall()))
        self.committed = commit
        rows = iter(results[1 if opening else 0:])
        return [next(rows) if s is not None else [] for s in statements]


class pipelined:
    """Borrow a connection of a ``multi_statements`` pool for a :class:`Pipeline`; ROLLBACK unless it committed
    (on an error MySQL stops executing the rest of a multi-statement, so the COMMIT never ran)."""

    def __init__(self, pool: aiomysql.Pool) -> None:
        self._pool = pool

    async def __aenter__(self) -> Pipeline:
        self._conn = await self._pool.acquire()
        self._cur = await self._conn.cursor()
        self._pipeline = Pipeline(self._cur)
        return self._pipeline

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is asyncio.CancelledError:
                self._conn.close()  # may be cancelled mid-result: closing rolls back and nobody reuses it
            elif self._pipeline.begun and not self._pipeline.committed:
                await self._conn.rollback()
        except BaseException:
            self._conn.close()  # state unknown: never hand it to the next borrower
            raise
        finally:
            if not self._conn.closed:
                await self._cur.close()
            self._pool.release(self._conn)


def mysql_error_code(exc: BaseException) -> int | None:
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        return exc.args[0]
    return None


async def retrying(work: Callable[[], Awaitable[T]], retry_on: frozenset[int] = TRANSIENT, attempts: int = 5) -> T:
    """Run a whole transaction again when it failed with one of ``retry_on`` (InnoDB rolled it back), instead
    of turning a deadlock between concurrent requests into an error for one of them."""
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except pymysql.err.MySQLError as exc:
            if mysql_error_code(exc) not in retry_on or attempt == attempts:
                raise
            log.info("transaction retried", extra={"error": repr(exc), "attempt": attempt})
            await asyncio.sleep(0.005 * attempt)
    raise AssertionError("unreachable")


def retry_transient(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Decorate a coroutine that runs ONE whole transaction, so a deadlock re-runs it (see :func:`retrying`)."""

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        return await retrying(lambda: method(*args, **kwargs))

    return wrapper
