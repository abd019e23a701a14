"""Fixtures: a fresh MySQL database and a private nats-server per test run, and the running system."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiomysql
import pytest

from switchboard.cli import migration_folders
from switchboard.db import MySQLURL
from switchboard.migrate import migrate
from switchboard.runner import NatsServer
from tests.support.system import System
from tests.support.users import SocketUser, new_user_id

MYSQL_SERVER = "mysql://root@127.0.0.1:3306"

Connect = Callable[..., Awaitable[SocketUser]]


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Service logs land here; pytest prints the path of a failing test's logs in the assertion context."""
    return tmp_path_factory.mktemp("run")


@pytest.fixture(scope="session")
async def mysql_url() -> AsyncIterator[str]:
    url = f"{MYSQL_SERVER}/sb_test_{uuid.uuid4().hex[:10]}"
    await migrate(url, migration_folders())
    yield url
    conn = await aiomysql.connect(**MySQLURL.parse(url).connect_kwargs(with_database=False))
    async with conn.cursor() as cur:
        await cur.execute(f"DROP DATABASE IF EXISTS `{MySQLURL.parse(url).database}`")
    conn.close()


@pytest.fixture(scope="session")
async def nats_server(tmp_path_factory: pytest.TempPathFactory, run_dir: Path) -> AsyncIterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("jetstream"), log_path=run_dir / "nats.log")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def system(mysql_url: str, nats_server: NatsServer, run_dir: Path) -> AsyncIterator[System]:
    """The shared deployment: devices, messaging and two edge nodes. Tests must not kill its processes;
    tests that break things build their own with :func:`make_system`."""
    sys_ = await System(mysql_url, nats_server, run_dir).start(edges=2)
    yield sys_
    await sys_.stop()


@pytest.fixture
async def make_system(mysql_url: str, nats_server: NatsServer, tmp_path: Path):
    """Factory for a private deployment (own NATS prefix, own logs) that a test may break; pass ``nats`` for
    a private NATS server the test may stop."""
    made: list[System] = []

    async def make(edges: int = 2, messaging_replicas: int = 1, env: dict[str, str] | None = None,
                   nats: NatsServer | None = None) -> System:
        sys_ = System(mysql_url, nats or nats_server, tmp_path, extra_env=env)
        made.append(sys_)
        return await sys_.start(edges=edges, messaging_replicas=messaging_replicas)

    yield make
    for sys_ in made:
        await sys_.stop()


@pytest.fixture
async def connect(system: System) -> AsyncIterator[Connect]:
    """``await connect(role="agent", node=1)`` → a registered user on that edge node (a fresh user id unless
    ``user_id`` is given, so tests do not see each other's messages). Closed after the test."""
    users: list[SocketUser] = []

    async def make(role: str = "user", node: int = 0, user_id: int | None = None,
                   device_id: str | None = None, register: bool = True) -> SocketUser:
        uid = user_id or new_user_id()
        user = SocketUser(system.edges[node].url, uid, system.token(uid, role), device_id=device_id)
        users.append(user)
        if register:
            await user.join()
        else:
            await user.connect()
        return user

    yield make
    for user in users:
        await user.close()
