"""A tiny versioned migration runner. Each service owns a folder of ``NNNN_name.sql`` files for its own
tables; applied versions are recorded in ``schema_migrations`` so running it again changes nothing."""

from __future__ import annotations

import logging
import re
import warnings
from pathlib import Path

import aiomysql

from switchboard.db import MySQLURL

log = logging.getLogger(__name__)

_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def statements(sql: str) -> list[str]:
    """Split a migration file on ``;`` at the end of a line; comments and blank lines are dropped."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    parts = re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE)
    return [part.strip() for part in parts if part.strip()]


def pending_files(folders: dict[str, Path]) -> list[tuple[str, Path]]:
    """``(version, path)`` of every migration, ordered by folder then number; version is ``owner:NNNN``."""
    found = []
    for owner, folder in folders.items():
        for path in sorted(folder.glob("*.sql")):
            match = _FILE.match(path.name)
            if not match:
                raise ValueError(f"migration file name must look like 0001_name.sql: {path}")
            found.append((f"{owner}:{match.group(1)}", path))
    return found


async def ensure_database(url: str) -> None:
    warnings.filterwarnings("ignore", module="aiomysql")  # "already exists" notes are expected
    target = MySQLURL.parse(url)
    conn = await aiomysql.connect(**target.connect_kwargs(with_database=False))
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                f"CREATE DATABASE IF NOT EXISTS `{target.database}` "
                "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
    finally:
        conn.close()


async def migrate(url: str, folders: dict[str, Path]) -> list[str]:
    """Create the database if missing and apply what is not applied yet. Returns the versions applied now."""
    await ensure_database(url)
    conn = await aiomysql.connect(**MySQLURL.parse(url).connect_kwargs())
    applied_now: list[str] = []
    try:
        async with conn.cursor() as cur:
            await cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL,"
                " applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            )
            await cur.execute("SELECT version FROM schema_migrations")
            done = {row[0] for row in await cur.fetchall()}
            for version, path in pending_files(folders):
                if version in done:
                    continue
                log.info("applying migration", extra={"version": version, "file": path.name})
                for statement in statements(path.read_text()):
                    await cur.execute(statement)
                await cur.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, path.name)
                )
                applied_now.append(version)
    finally:
        conn.close()
    return applied_now
