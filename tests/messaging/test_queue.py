"""The waiting queue's changes (queue_updated on the staff subject): a session opened with no agent enters it, a
session taken (assigned, or transferred by an admin) or closed while waiting leaves it, and nothing else is
announced there — not a repeated open, not a change of a session that already has an agent."""

from __future__ import annotations

from typing import Any

from nats.aio.msg import Msg

from protos import messaging_pb2
from switchboard.nats import decode
from tests.messaging.conftest import Messaging, eventually, new_user


async def test_a_session_enters_the_queue_when_opened_and_leaves_it_once_taken_or_closed(
        messaging: Messaging) -> None:
    heard: list[dict[str, Any]] = []

    async def record(msg: Msg) -> None:
        heard.append(decode(msg.data))

    sub = await messaging.nc.subscribe(messaging.subjects.staff, cb=record)
    await messaging.nc.flush()
    stub, admin, other_agent = messaging.stub, new_user(), await messaging.agent()

    # Taken by an agent; afterwards a transfer, a take-over and a close change nothing in the queue.
    taken, customer, agent = await messaging.session()
    assert (await stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))).session.session_id == (
        taken.session_id)  # the open session again: not a new entry
    await stub.TransferSession(messaging_pb2.TransferSessionRequest(
        session_id=taken.session_id, actor_id=agent, actor_role="agent", agent_id=other_agent))
    await stub.AssignAgent(messaging_pb2.AssignAgentRequest(session_id=taken.session_id, agent_id=admin,
                                                            take_over=True))
    await stub.CloseSession(messaging_pb2.CloseSessionRequest(session_id=taken.session_id, actor_id=admin,
                                                              actor_role="admin"))
    # Closed while waiting, by its customer.
    abandoned, quitter, _ = await messaging.session(with_agent=False)
    await stub.CloseSession(messaging_pb2.CloseSessionRequest(session_id=abandoned.session_id, actor_id=quitter,
                                                              actor_role="user"))
    # Handed to an agent by an admin while waiting: taken too.
    handed, handed_customer, _ = await messaging.session(with_agent=False)
    await stub.TransferSession(messaging_pb2.TransferSessionRequest(
        session_id=handed.session_id, actor_id=admin, actor_role="admin", agent_id=other_agent))

    # One replica, one NATS connection: its publishes arrive in order, so once the last is here all are.
    def about(session_id: str) -> list[dict[str, Any]]:
        return [e["data"] for e in heard if e["event"] == "queue_updated" and e["data"]["session_id"] == session_id]

    await eventually(lambda: [e["reason"] for e in about(handed.session_id)] == ["waiting", "taken"],
                     what="the handed session taken")
    await sub.unsubscribe()
    assert about(taken.session_id) == [
        {"session_id": taken.session_id, "user_id": customer, "status": "open", "last_sequence": 0,
         "reason": "waiting"},
        {"session_id": taken.session_id, "user_id": customer, "status": "open", "last_sequence": 0,
         "reason": "taken"},  # which agent took it is not told to every other agent
    ]
    assert [(e["reason"], e["status"]) for e in about(abandoned.session_id)] == [("waiting", "open"),
                                                                               ("closed", "closed")]
    assert [e["user_id"] for e in about(handed.session_id)] == [handed_customer, handed_customer]
