"""Presence forwarding: a transition the devices service publishes on ``{prefix}.presence.<user_id>`` reaches
the other participant of each of the user's open sessions as a ``presence`` event, once, whichever of the
two replicas (one queue group) took it."""

from __future__ import annotations

from protos import messaging_pb2
from switchboard.nats import encode
from tests.messaging.conftest import Messaging, new_user
from tests.support.polling import eventually

FORWARDED = "switchboard_messaging_presence_forwarded_total"


async def transition(messaging: Messaging, user_id: int, online: bool, last_seen: str = "") -> None:
    """What the devices service publishes."""
    await messaging.nc.publish(messaging.subjects.presence(user_id),
                               encode("presence", {"user_id": user_id, "online": online, "last_seen": last_seen}))
    await messaging.nc.flush()


async def test_an_agent_going_offline_and_online_is_told_to_the_customer_once(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    events = await messaging.subscriber()
    await events.watch(customer)
    before = await messaging.metric(FORWARDED)

    await transition(messaging, agent, False, "2030-01-02T03:04:05.678Z")
    await eventually(lambda: len(events.of(customer, "presence")) == 1)
    await transition(messaging, agent, True)
    await eventually(lambda: len(events.of(customer, "presence")) == 2)

    assert [e["data"] for e in events.of(customer, "presence")] == [
        {"user_id": agent, "online": False, "last_seen": "2030-01-02T03:04:05.678Z",
         "session_id": session.session_id},
        {"user_id": agent, "online": True, "last_seen": "", "session_id": session.session_id},
    ]
    # Two replicas subscribe; the queue group gives each transition to one of them.
    await eventually(lambda: messaging.metric(FORWARDED), before + 2)


async def test_the_customer_going_offline_is_told_to_the_agent(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    events = await messaging.subscriber()
    await events.watch(agent)

    await transition(messaging, customer, False, "2030-01-02T03:04:05.678Z")

    [event] = await eventually(lambda: events.of(agent, "presence"))
    assert event["data"] == {"user_id": customer, "online": False, "last_seen": "2030-01-02T03:04:05.678Z",
                             "session_id": session.session_id}


async def test_each_open_session_gets_its_own_event_and_closed_ones_none(messaging: Messaging) -> None:
    agent = new_user()
    # Created first, so that were it forwarded, its event would come before the open sessions' ones (one
    # replica publishes all sessions of a transition in session order over one connection).
    closed, closed_customer, _ = await messaging.session(with_agent=False)
    await messaging.stub.AssignAgent(messaging_pb2.AssignAgentRequest(session_id=closed.session_id, agent_id=agent))
    await messaging.query("UPDATE chat_sessions SET status = 'closed' WHERE session_id = %s", closed.session_id)
    open_sessions = {}
    for _ in range(2):
        session, customer, _ = await messaging.session(with_agent=False)
        await messaging.stub.AssignAgent(
            messaging_pb2.AssignAgentRequest(session_id=session.session_id, agent_id=agent))
        open_sessions[customer] = session.session_id
    events = await messaging.subscriber()
    await events.watch(closed_customer, *open_sessions)

    await transition(messaging, agent, True)

    for customer, session_id in open_sessions.items():
        [event] = await eventually(lambda c=customer: events.of(c, "presence"))
        assert event["data"] == {"user_id": agent, "online": True, "last_seen": "", "session_id": session_id}
    assert events.of(closed_customer, "presence") == []


async def test_a_session_without_an_agent_is_skipped_and_the_others_still_told(messaging: Messaging) -> None:
    _, customer, agent = await messaging.session(with_agent=False)
    reply = await messaging.stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))
    staffed = (await messaging.stub.AssignAgent(
        messaging_pb2.AssignAgentRequest(session_id=reply.session.session_id, agent_id=agent))).session
    events = await messaging.subscriber()
    await events.watch(agent)

    await transition(messaging, customer, False)

    [event] = await eventually(lambda: events.of(agent, "presence"))
    assert event["data"]["session_id"] == staffed.session_id
