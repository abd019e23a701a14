"""Identities cannot collide: a user id is bound to the role it first registered with, so a token of another role
carrying the same number is refused at register and therefore on every event. And admins take sessions over."""

from __future__ import annotations

import pytest

from switchboard.contract import EVENTS
from tests.support.polling import eventually
from tests.support.system import System
from tests.support.users import SocketUser, open_conversation


@pytest.mark.parametrize(("owner_role", "impostor_role"), [("agent", "user"), ("user", "agent"), ("agent", "admin")])
async def test_a_token_of_another_role_with_a_taken_id_is_refused_everywhere(
        system: System, connect, owner_role: str, impostor_role: str) -> None:
    customer, agent = await connect("user"), await connect("agent")
    session_id = await open_conversation(customer, agent)
    owner = customer if owner_role == "user" else agent
    impostor = SocketUser(system.edges[1].url, owner.user_id, system.token(owner.user_id, impostor_role))
    await impostor.connect()
    try:
        refused = await impostor.register()
        assert refused["success"] is False and refused["error"]["code"] == "FORBIDDEN", refused
        assert owner_role not in refused["error"]["message"]  # neutral: whose id it is stays unsaid
        payloads = {"session_id": session_id, "message_id": 1, "message_ids": [1], "message": "x", "device_id": "d",
                    "push_token": "t", "up_to_sequence": 1}
        for name in EVENTS.keys() - {"register"}:
            reply = await impostor.call(name, payloads)
            assert reply["error"]["code"] == "NOT_REGISTERED", (name, reply)
        # the owner's conversation goes on; none of it reaches the impostor
        sent = await customer.call("send_message", {"session_id": session_id, "message": "for the agent only"})
        assert sent["success"]
        await agent.wait_for("new_message")
        assert (await customer.call("sync", {"session_id": session_id}))["success"]
        assert not impostor.events["new_message"] and not impostor.events["message_status"]
    finally:
        await impostor.close()


async def test_an_admin_takes_a_session_over_and_answers_in_it(connect) -> None:
    customer, agent, admin = await connect("user"), await connect("agent"), await connect("admin")
    session_id = await open_conversation(customer, agent)
    taken = await admin.call("join_session", {"session_id": session_id})
    assert taken["success"] and taken["session"]["agent_id"] == admin.user_id, taken
    for someone in (customer, agent, admin):  # the replaced agent too: the session left its list
        await eventually(lambda s=someone: {(u["reason"], u["agent_id"]) for u in s.events["session_updated"]}
                         >= {("taken_over", admin.user_id)})
    answer = await admin.call("send_message", {"session_id": session_id, "message": "a supervisor here"})
    assert answer["success"], answer
    shown = await customer.wait_for("new_message")
    assert (shown["from"], shown["from_user_id"]) == ("agent", admin.user_id)
    replaced = await agent.call("send_message", {"session_id": session_id, "message": "still mine?"})
    assert replaced["error"]["code"] == "NOT_FOUND", replaced


async def test_an_agent_cannot_take_over_another_agents_session(connect) -> None:
    customer, agent, other = await connect("user"), await connect("agent"), await connect("agent")
    session_id = await open_conversation(customer, agent)
    refused = await other.call("join_session", {"session_id": session_id})
    assert refused["error"]["code"] == "FORBIDDEN", refused
