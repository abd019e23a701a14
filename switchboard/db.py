"""MySQL access through one aiomysql pool per process."""

from __future__ import annotations

import dataclasses
from urllib.parse import unquote, urlparse

import aiomysql


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


async def create_pool(url: str, size: int = 10) -> aiomysql.Pool:
    """A pool in autocommit mode: a single statement commits by itself; multi-statement work uses
    :func:`transaction`, so no connection goes back to the pool with an open transaction."""
    target = MySQLURL.parse(url)
    return await aiomysql.create_pool(minsize=1, maxsize=size, pool_recycle=3600, **target.connect_kwargs())


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
            else:
                await self._conn.rollback()
        finally:
            await self._cur.close()
            self._pool.release(self._conn)
