"""Sessions and SendMessage: validation, participants, gap-free sequences across replicas, idempotency, and
the new_message events on the participants' subjects and in the JetStream inbox."""

from __future__ import annotations

import asyncio
import re

import pytest

from protos import messaging_pb2
from switchboard.errors import Forbidden, InvalidArgument, NotFound
from switchboard.nats import decode
from tests.messaging.conftest import Messaging, eventually, new_user

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_open_session_then_assign_agent(messaging: Messaging) -> None:
    customer, agent = new_user(), new_user()
    opened = (await messaging.stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))).session
    assert opened.user_id == customer and opened.agent_id == 0 and opened.status == "open"
    assert ISO_MS.match(opened.created_at)

    events = await messaging.subscriber()
    await events.watch(customer, agent)
    assigned = (await messaging.stub.AssignAgent(
        messaging_pb2.AssignAgentRequest(session_id=opened.session_id, agent_id=agent))).session
    assert assigned.agent_id == agent

    for uid in (customer, agent):
        update = (await eventually(lambda uid=uid: events.of(uid, "session_updated")))[0]["data"]
        assert update == {"session_id": opened.session_id, "user_id": customer, "agent_id": agent,
                          "status": "open", "last_sequence": 0, "reason": "agent_joined"}

    fetched = (await messaging.stub2.GetSession(messaging_pb2.GetSessionRequest(session_id=opened.session_id)))
    assert fetched.session == assigned


async def test_assigning_the_same_agent_again_is_a_no_op_but_another_agent_is_forbidden(messaging: Messaging) -> None:
    session, _, agent = await messaging.session()
    again = await messaging.stub.AssignAgent(
        messaging_pb2.AssignAgentRequest(session_id=session.session_id, agent_id=agent))
    assert again.session.agent_id == agent
    with pytest.raises(Forbidden):
        await messaging.stub.AssignAgent(
            messaging_pb2.AssignAgentRequest(session_id=session.session_id, agent_id=new_user()))


async def test_unknown_sessions_are_not_found(messaging: Messaging) -> None:
    with pytest.raises(NotFound):
        await messaging.stub.GetSession(messaging_pb2.GetSessionRequest(session_id="no-such-session"))
    with pytest.raises(NotFound):
        await messaging.stub.AssignAgent(messaging_pb2.AssignAgentRequest(session_id="no-such-session", agent_id=1))
    with pytest.raises(NotFound):
        await messaging.send("no-such-session", new_user())


async def test_send_stores_the_message_and_answers_it_with_increasing_sequences(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    first = await messaging.send(session.session_id, customer, text="hi, I need help", client_msg_id="c-1")
    second = await messaging.send(session.session_id, agent, role="agent", text="sure",
                                  reply_to_message_id=first.message.id)

    msg = first.message
    assert not first.duplicate
    assert (msg.session_id, getattr(msg, "from"), msg.from_user_id, msg.to_user_id) == (
        session.session_id, "user", customer, agent)
    assert (msg.text, msg.message_type, msg.status, msg.client_msg_id) == ("hi, I need help", "text", "sent", "c-1")
    assert ISO_MS.match(msg.time)
    assert (msg.sequence_number, second.message.sequence_number) == (1, 2)
    assert second.message.to_user_id == customer and second.message.reply_to_message_id == msg.id

    rows = await messaging.query(
        "SELECT sequence_number, from_user_id, to_user_id, status, sent_at IS NOT NULL FROM chat_messages"
        " WHERE session_id = %s ORDER BY sequence_number", session.session_id)
    assert rows == [(1, customer, agent, "sent", 1), (2, agent, customer, "sent", 1)]
    # One offline row per recipient: the other participant, never the sender.
    offline = await messaging.query(
        "SELECT user_id, message_id FROM offline_messages WHERE session_id = %s ORDER BY id", session.session_id)
    assert offline == [(agent, msg.id), (customer, second.message.id)]


async def test_a_message_before_an_agent_joins_has_no_addressee(messaging: Messaging) -> None:
    session, customer, _ = await messaging.session(with_agent=False)
    reply = await messaging.send(session.session_id, customer)
    assert reply.message.to_user_id == 0
    assert await messaging.query("SELECT COUNT(*) FROM offline_messages WHERE message_id = %s",
                                 reply.message.id) == [(0,)]


async def test_only_the_sessions_participants_in_their_roles_may_send(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    # Not the sender's session (in that role) is answered like no session at all: ids cannot be probed.
    with pytest.raises(NotFound) as outsider:
        await messaging.send(session.session_id, new_user())
    with pytest.raises(NotFound) as unknown:
        await messaging.send("no-such-session", customer)
    assert outsider.value.message.replace(session.session_id, "S") == unknown.value.message.replace(
        "no-such-session", "S")
    with pytest.raises(NotFound):
        await messaging.send(session.session_id, customer, role="agent")
    with pytest.raises(NotFound):
        await messaging.send(session.session_id, agent, role="user")


async def test_a_closed_session_takes_no_more_messages(messaging: Messaging) -> None:
    session, customer, _ = await messaging.session()
    await messaging.query("UPDATE chat_sessions SET status = 'closed' WHERE session_id = %s", session.session_id)
    with pytest.raises(Forbidden):
        await messaging.send(session.session_id, customer)


@pytest.mark.parametrize("fields", [
    {"text": ""},
    {"text": "   "},
    {"text": "x" * 10_001},
    {"message_type": "hologram"},
    {"role": "admin"},
    {"client_msg_id": "c" * 65},
    {"sender": 0},
    {"session_id": ""},
], ids=["empty", "blank", "too-long", "type", "role", "client-msg-id", "sender", "session"])
async def test_invalid_requests_are_rejected(messaging: Messaging, fields: dict) -> None:
    session, customer, _ = await messaging.session()
    request = {"session_id": session.session_id, "sender": customer, **fields}
    with pytest.raises(InvalidArgument) as error:
        await messaging.send(request.pop("session_id"), request.pop("sender"), **request)
    assert error.value.code == "INVALID_ARGUMENT"


async def test_a_reply_must_stay_in_its_session(messaging: Messaging) -> None:
    session, customer, _ = await messaging.session()
    elsewhere, other_customer, _ = await messaging.session()
    foreign = await messaging.send(elsewhere.session_id, other_customer)
    with pytest.raises(InvalidArgument):
        await messaging.send(session.session_id, customer, reply_to_message_id=foreign.message.id)
    with pytest.raises(InvalidArgument):
        await messaging.send(session.session_id, customer, reply_to_message_id=2**62)
    long_text = "y" * 10_000
    assert (await messaging.send(session.session_id, customer, text=long_text)).message.text == long_text


async def test_concurrent_sends_across_two_replicas_get_gap_free_sequences(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    count = 1000

    async def send(i: int) -> messaging_pb2.SendMessageResponse:
        sender, role = (customer, "user") if i % 2 else (agent, "agent")
        stub = messaging.stub if i % 4 < 2 else messaging.stub2
        return await messaging.send(session.session_id, sender, role=role, text=f"m{i}", stub=stub,
                                    client_msg_id=f"burst-{i}")

    replies = await asyncio.gather(*(send(i) for i in range(count)))
    assert sorted(r.message.sequence_number for r in replies) == list(range(1, count + 1))
    assert not any(r.duplicate for r in replies)
    rows = await messaging.query(
        "SELECT sequence_number FROM chat_messages WHERE session_id = %s ORDER BY sequence_number",
        session.session_id)
    assert [r[0] for r in rows] == list(range(1, count + 1))
    assert await messaging.query("SELECT last_sequence FROM chat_sessions WHERE session_id = %s",
                                 session.session_id) == [(count,)]


async def test_the_same_client_msg_id_stores_one_message_even_when_replicas_race(messaging: Messaging) -> None:
    session, customer, _ = await messaging.session()
    replies = await asyncio.gather(*(
        messaging.send(session.session_id, customer, text="once", client_msg_id="retry-me",
                       stub=messaging.stub if i % 2 else messaging.stub2)
        for i in range(5)))
    originals = [r for r in replies if not r.duplicate]
    assert len(originals) == 1
    assert {(r.message.id, r.message.sequence_number) for r in replies} == {
        (originals[0].message.id, originals[0].message.sequence_number)}
    assert await messaging.query("SELECT COUNT(*) FROM chat_messages WHERE from_user_id = %s", customer) == [(1,)]

    later = await messaging.send(session.session_id, customer, text="once", client_msg_id="retry-me")
    assert later.duplicate and later.message.id == originals[0].message.id


async def test_new_message_reaches_every_participant_and_the_jetstream_inbox(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    events = await messaging.subscriber()
    await events.watch(customer, agent)
    reply = await messaging.send(session.session_id, customer, text="ping", client_msg_id="evt-1",
                                 origin_connection_id="conn-a")

    for uid in (customer, agent):  # the sender too: its other devices must see it
        event = (await eventually(lambda uid=uid: events.of(uid, "new_message")))[0]
        assert event["skip_connection"] == "conn-a"
        data = event["data"]
        assert (data["id"], data["session_id"], data["from"], data["text"], data["sequence_number"]) == (
            reply.message.id, session.session_id, "user", "ping", 1)
        assert (data["client_msg_id"], data["offline"], data["timestamp"]) == ("evt-1", False, reply.message.time)

    js = messaging.nc.jetstream()
    stored = await js.get_last_msg(messaging.subjects.inbox_stream, messaging.subjects.user_inbox(agent))
    assert decode(stored.data)["data"]["id"] == reply.message.id
    assert stored.headers["Nats-Msg-Id"] == f"m{reply.message.id}u{agent}"


async def test_opening_again_returns_the_customers_open_session(messaging: Messaging) -> None:
    """A customer has at most one open session: 50 concurrent opens, on two replicas, create one row."""
    customer = new_user()
    replies = await asyncio.gather(*(
        (messaging.stub if i % 2 else messaging.stub2).OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))
        for i in range(50)))
    assert len({r.session.session_id for r in replies}) == 1
    assert await messaging.query("SELECT COUNT(*) FROM chat_sessions WHERE user_id = %s", customer) == [(1,)]


async def test_system_message_goes_to_the_users_open_session(messaging: Messaging) -> None:
    customer = new_user()
    latest = (await messaging.stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))).session
    agent = new_user()
    await messaging.stub.AssignAgent(messaging_pb2.AssignAgentRequest(session_id=latest.session_id, agent_id=agent))
    events = await messaging.subscriber()
    await events.watch(customer, agent)
    request = messaging_pb2.SendSystemMessageRequest(user_id=customer, text="agent is typing a form",
                                                     idempotency_key="sys-1")
    reply = await messaging.stub.SendSystemMessage(request)
    msg = reply.message
    assert (msg.session_id, getattr(msg, "from"), msg.from_user_id, msg.to_user_id, msg.message_type) == (
        latest.session_id, "system", 0, customer, "text")
    again = await messaging.stub2.SendSystemMessage(request)
    assert again.duplicate and again.message.id == msg.id
    for uid in (customer, agent):
        await eventually(lambda uid=uid: events.of(uid, "new_message"))
    assert sorted(await messaging.query("SELECT user_id FROM offline_messages WHERE message_id = %s", msg.id)) == \
        sorted([(customer,), (agent,)])

    with pytest.raises(NotFound):
        await messaging.stub.SendSystemMessage(messaging_pb2.SendSystemMessageRequest(user_id=new_user(), text="x"))


async def test_idempotency_keys_compare_byte_for_byte(messaging: Messaging) -> None:
    """``ABC``, ``abc `` and ``àbc`` are not ``abc`` (under the old case- and accent-insensitive collation they
    were acknowledged as duplicates and their text dropped) — also within one batch."""
    session, customer, _ = await messaging.session()
    first = await messaging.send(session.session_id, customer, client_msg_id="abc", text="first")
    for key in ("ABC", "abc ", "àbc", "ａbc"):
        other = await messaging.send(session.session_id, customer, client_msg_id=key, text=f"text of {key}")
        assert not other.duplicate and other.message.id != first.message.id, key
        assert other.message.text == f"text of {key}" and other.message.client_msg_id == key
    again = await messaging.send(session.session_id, customer, client_msg_id="abc", text="retried")
    assert again.duplicate and again.message.id == first.message.id and again.message.text == "first"

    together = await asyncio.gather(*(
        messaging.send(session.session_id, customer, client_msg_id=key) for key in ("batch-a", "BATCH-A", "batch-a")))
    assert [r.duplicate for r in together].count(False) == 2
    assert len({r.message.id for r in together}) == 2


async def test_an_idempotency_key_never_answers_with_another_sessions_message(messaging: Messaging) -> None:
    """The key is scoped to (sender, session): the same key in a second session is a new message of that session
    (it used to return the first session's message)."""
    first_session, _, agent = await messaging.session()
    other = (await messaging.stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=new_user()))).session
    await messaging.stub.AssignAgent(messaging_pb2.AssignAgentRequest(session_id=other.session_id, agent_id=agent))
    one = await messaging.send(first_session.session_id, agent, role="agent", client_msg_id="k", text="one")
    two = await messaging.send(other.session_id, agent, role="agent", client_msg_id="k", text="two")
    assert not two.duplicate and two.message.session_id == other.session_id and two.message.text == "two"
    assert one.message.session_id == first_session.session_id
