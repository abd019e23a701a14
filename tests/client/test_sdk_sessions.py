"""The SDK's session helpers for an agent console — list_sessions, transfer_session, close_session — on both
faces, against the real system."""

from __future__ import annotations

import asyncio

import pytest

from client import WebSocketClient
from client.errors import Forbidden
from tests.client.conftest import FAST, SdkFactory
from tests.support.polling import eventually
from tests.support.system import System
from tests.support.users import new_user_id


async def test_list_transfer_and_close_on_both_faces(sdk: SdkFactory, system: System) -> None:
    customer, c_rec = await sdk("user")
    agent, a_rec = await sdk("agent", node=1)
    target_id = new_user_id()
    target = WebSocketClient(system.edges[0].url, **FAST)  # the sync face
    try:
        assert await asyncio.to_thread(target.connect, target_id, system.token(target_id, "agent"))
        session_id = await customer.open_session()
        queue = await agent.list_sessions("waiting", limit=100)
        while session_id not in [s["session_id"] for s in queue["sessions"]] and queue["has_more"]:
            queue = await agent.list_sessions("waiting", cursor=queue["next_cursor"], limit=100)
        assert session_id in [s["session_id"] for s in queue["sessions"]]
        await agent.join_session(session_id)

        moved = await agent.transfer_session(session_id, target_id)
        assert moved["session"]["agent_id"] == target_id
        for rec in (c_rec, a_rec):
            await eventually(lambda rec=rec: any(u["reason"] == "transferred" for u in rec.events["session_updated"]))
        mine = await asyncio.to_thread(target.list_sessions, status="open")
        assert [s["session_id"] for s in mine["sessions"]] == [session_id] and not mine["has_more"]

        closed = await asyncio.to_thread(target.close_session, session_id)
        assert closed["session"]["status"] == "closed"
        await eventually(lambda: any(u["reason"] == "closed" for u in c_rec.events["session_updated"]))
        with pytest.raises(Forbidden):  # closed
            await asyncio.to_thread(target.transfer_session, session_id, agent.user_id)
        assert (await customer.list_sessions(status="closed"))["sessions"][-1]["session_id"] == session_id
    finally:
        await asyncio.to_thread(target.close)
