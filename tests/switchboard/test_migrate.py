"""Migrations apply once, in order, per owning service."""

from __future__ import annotations

import uuid
from pathlib import Path

import aiomysql
import pytest

from switchboard.db import MySQLURL
from switchboard.migrate import migrate, pending_files, statements
from tests.conftest import MYSQL_SERVER


def test_statements_split_on_line_ending_semicolons_and_drop_comments() -> None:
    sql = "-- a comment\nCREATE TABLE a (x INT);\n\nCREATE TABLE b (\n  y VARCHAR(3) DEFAULT ';'\n);\n"
    assert statements(sql) == ["CREATE TABLE a (x INT)", "CREATE TABLE b (\n  y VARCHAR(3) DEFAULT ';'\n)"]


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "first.sql").write_text("SELECT 1;")
    with pytest.raises(ValueError, match=r"0001_name\.sql"):
        pending_files({"x": tmp_path})


async def test_applying_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE t (id INT PRIMARY KEY);")
    (tmp_path / "0002_second.sql").write_text("ALTER TABLE t ADD COLUMN name VARCHAR(10);")
    url = f"{MYSQL_SERVER}/sb_migrate_{uuid.uuid4().hex[:8]}"
    try:
        assert await migrate(url, {"svc": tmp_path}) == ["svc:0001", "svc:0002"]
        assert await migrate(url, {"svc": tmp_path}) == []
    finally:
        conn = await aiomysql.connect(**MySQLURL.parse(url).connect_kwargs(with_database=False))
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{MySQLURL.parse(url).database}`")
        conn.close()
