"""The messaging service, as two replicas (with the devices service it asks for roles), against a database of
its own and the shared nats-server.

The database is private to these tests because every replica's retry worker drains ``message_queue`` of the
whole database: another deployment's worker sharing it would publish our rows under its own prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import random
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiomysql
import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from protos import devices_pb2, messaging_pb2
from protos.messaging_pb2_grpc import MessagingServiceStub
from switchboard.cli import migration_folders
from switchboard.db import MySQLURL
from switchboard.migrate import migrate
from switchboard.nats import Subjects, decode
from switchboard.runner import NatsServer, free_port
from tests.conftest import MYSQL_SERVER
from tests.support.system import System

# Fast retries so the retry tests take seconds.
TEST_ENV = {
    "SWITCHBOARD_RETRY_POLL_SECONDS": "0.05",
    "SWITCHBOARD_RETRY_BASE_SECONDS": "0.2",
    "SWITCHBOARD_PUBLISH_TIMEOUT_SECONDS": "0.5",
    # These tests count publishes exactly; the delivery sweep (tests/messaging/test_sweep.py) would add its
    # own for every message nobody acknowledges, so here it looks at no row at all.
    "SWITCHBOARD_DELIVERY_SWEEP_AGE_SECONDS": "86400",
}

_user_ids = itertools.count(random.randrange(10**9, 2 * 10**9, 10**6))


def new_user() -> int:
    """A user id no other test uses (pending messages and idempotency keys are per user)."""
    return next(_user_ids)


async def eventually(condition: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``condition`` (sync or async) until it returns something truthy; fail after a generous deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    url = f"{MYSQL_SERVER}/sb_msg_{uuid.uuid4().hex[:10]}"
    await migrate(url, migration_folders())
    try:
        yield url
    finally:
        conn = await aiomysql.connect(**MySQLURL.parse(url).connect_kwargs(with_database=False))
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{MySQLURL.parse(url).database}`")
        conn.close()


class Subscriber:
    """Core-NATS subscriptions to user subjects, recording every event by user."""

    def __init__(self, nc: Client, subjects: Subjects) -> None:
        self.nc, self.subjects = nc, subjects
        self.events: dict[int, list[dict[str, Any]]] = {}

    async def watch(self, *user_ids: int) -> None:
        for uid in user_ids:
            self.events.setdefault(uid, [])

            async def record(msg: Msg, uid: int = uid) -> None:
                self.events[uid].append(decode(msg.data))

            await self.nc.subscribe(self.subjects.user_all(uid), cb=record)
        await self.nc.flush()

    def of(self, user_id: int, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events.get(user_id, []) if e["event"] == event]


@dataclasses.dataclass
class Messaging:
    system: System
    stub: MessagingServiceStub  # replica 1
    stub2: MessagingServiceStub  # replica 2
    nc: Client
    replica_http_ports: list[int]

    @property
    def subjects(self) -> Subjects:
        return Subjects(self.system.prefix)

    async def query(self, sql: str, *args: object) -> list[tuple]:
        return await self.system.query(sql, *args)

    async def session(self, with_agent: bool = True) -> tuple[messaging_pb2.Session, int, int]:
        """A new session: ``(session, customer id, agent id)``; the agent is assigned unless told otherwise."""
        customer, agent = new_user(), new_user()
        reply = await self.stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))
        session = reply.session
        if with_agent:
            session = (await self.stub.AssignAgent(
                messaging_pb2.AssignAgentRequest(session_id=session.session_id, agent_id=agent))).session
        return session, customer, agent

    async def agent(self) -> int:
        """A new user id registered as an agent (the role devices binds at first registration)."""
        agent = new_user()
        await self.system.devices_stub().RegisterDevice(devices_pb2.RegisterDeviceRequest(
            user_id=agent, device_id="console", role="agent"))
        return agent

    async def send(self, session_id: str, sender: int, role: str = "user", text: str = "hello",
                   stub: MessagingServiceStub | None = None, **fields: Any) -> messaging_pb2.SendMessageResponse:
        return await (stub or self.stub).SendMessage(messaging_pb2.SendMessageRequest(
            session_id=session_id, sender_id=sender, sender_role=role, text=text, **fields))

    async def subscriber(self) -> Subscriber:
        return Subscriber(self.nc, self.subjects)

    async def metric(self, name: str) -> float:
        """The sum of a counter over both replicas (all label sets)."""
        total = 0.0
        for port in self.replica_http_ports:
            text = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/metrics")
            total += sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                         if line.startswith(name) and not line.startswith("#"))
        return total


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode()


@pytest.fixture(scope="session")
async def messaging(nats_server: NatsServer, run_dir: Path) -> AsyncIterator[Messaging]:
    async with running_messaging(nats_server, run_dir) as started:
        yield started


@contextlib.asynccontextmanager
async def running_messaging(nats_server: NatsServer, run_dir: Path) -> AsyncIterator[Messaging]:
    """Two replicas on a database of their own (a module that needs the whole database to itself starts one)."""
    async with fresh_database() as url:
        sys_ = System(url, nats_server, run_dir, extra_env=TEST_ENV)
        await sys_.start_service("devices")  # roles: a transfer's target must be an agent
        first = await sys_.start_service("messaging")
        second_port = free_port()
        second = await sys_.start_service("messaging", name="messaging-2", grpc_port=second_port)
        nc = await nats.connect(nats_server.admin_url)
        try:
            yield Messaging(sys_, sys_.messaging_stub(), sys_.messaging_stub(second_port), nc,
                            [first.http_port, second.http_port])
        finally:
            await nc.close()
            await sys_.stop()
