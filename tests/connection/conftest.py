"""Fixtures for edge tests: users on the shared system's two edge nodes."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.support.system import System
from tests.support.users import SocketUser

_user_ids = itertools.count(10_000)

Connect = Callable[..., Awaitable[SocketUser]]


@pytest.fixture
async def connect(system: System) -> AsyncIterator[Connect]:
    """``await connect(role="agent", node=1)`` → a registered user on that edge node (a fresh user id unless
    ``user_id`` is given, so tests do not see each other's messages). Closed after the test."""
    users: list[SocketUser] = []

    async def make(role: str = "user", node: int = 0, user_id: int | None = None,
                   device_id: str | None = None, register: bool = True) -> SocketUser:
        uid = user_id or next(_user_ids)
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


async def open_conversation(customer: SocketUser, agent: SocketUser) -> str:
    """The customer opens a session and the agent joins it; returns the session id."""
    opened = await customer.call("open_session", {})
    assert opened["success"], opened
    joined = await agent.call("join_session", {"session_id": opened["session_id"]})
    assert joined["success"], joined
    return opened["session_id"]
