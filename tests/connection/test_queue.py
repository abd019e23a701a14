"""The waiting queue pushed to the agents' consoles (queue_updated), end to end through two edges: a session a
customer opens reaches every agent and admin on every edge, so does its being taken or closed while waiting; a
customer hears nothing of it, not even of its own session."""

from __future__ import annotations

from typing import Any

import nats

from switchboard.nats import Subjects, encode
from tests.conftest import Connect
from tests.support.polling import eventually
from tests.support.system import System
from tests.support.users import SocketUser


def _queue(user: SocketUser, session_id: str) -> list[dict[str, Any]]:
    return [e for e in user.events["queue_updated"] if e["session_id"] == session_id]


async def test_agents_on_every_edge_hear_a_session_enter_the_queue_and_leave_it(connect: Connect) -> None:
    customer, quitter, taker = await connect("user"), await connect("user"), await connect("agent")
    watcher, admin = await connect("agent", node=1), await connect("admin")
    bystander = await connect("user", node=1)  # a customer on the watcher's edge: never in the staff room

    opened = await customer.call("open_session", {})
    session_id = opened["session_id"]
    for staff in (watcher, admin, taker):
        entered = await eventually(lambda staff=staff: _queue(staff, session_id))
        assert entered == [{"session_id": session_id, "user_id": customer.user_id, "status": "open",
                            "last_sequence": 0, "reason": "waiting"}]
    assert (await taker.call("join_session", {"session_id": session_id}))["success"]
    left = await eventually(lambda: _queue(watcher, session_id)[1:])
    assert left == [{"session_id": session_id, "user_id": customer.user_id, "status": "open", "last_sequence": 0,
                     "reason": "taken"}]  # no agent_id: which colleague took it is not every agent's business

    abandoned = (await quitter.call("open_session", {}))["session_id"]
    assert (await quitter.call("close_session", {"session_id": abandoned}))["success"]
    reasons = await eventually(lambda: [e["reason"] for e in _queue(admin, abandoned)], ["waiting", "closed"])
    assert reasons == ["waiting", "closed"]

    # A reply comes back behind every event emitted to the socket before it: had a broadcast been emitted to
    # these customers alongside the staff's, it would be here now.
    for someone in (bystander, customer, quitter):
        assert (await someone.call("heartbeat", {"connection_id": someone.connection_id}))["success"]
        assert someone.events["queue_updated"] == [], someone.events["queue_updated"]


async def test_an_edge_relays_nothing_but_queue_updated_from_the_staff_subject(system: System,
                                                                             connect: Connect) -> None:
    """Only messaging may publish there; should anything else arrive, the edges drop it rather than emit it to
    every agent."""
    agent = await connect("agent", node=1)
    nc = await nats.connect(system.nats.admin_url)
    staff = Subjects(system.prefix).staff
    await nc.publish(staff, encode("kicked", {"device_id": agent.device_id, "reason": "forged"}))
    await nc.publish(staff, encode("new_message", {"id": 1, "session_id": "forged", "text": "click here"}))
    await nc.publish(staff, b"not json")
    await nc.publish(staff, encode("queue_updated", {"session_id": "last", "user_id": 1, "status": "open",
                                                     "last_sequence": 0, "reason": "waiting"}))
    await nc.close()
    await eventually(lambda: _queue(agent, "last"))  # published last on one connection: the others came first
    assert agent.events["kicked"] == agent.events["new_message"] == [] and agent.sio.connected
