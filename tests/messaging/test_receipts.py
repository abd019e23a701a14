"""Delivery and read receipts: only recipients acknowledge, statuses move forward only, and the sender hears
about each change on its subject."""

from __future__ import annotations

import pytest

from protos import messaging_pb2
from switchboard.errors import InvalidArgument, NotFound
from tests.messaging.conftest import Messaging, eventually, new_user


def delivered(user_id: int, *ids: int) -> messaging_pb2.MarkMessagesRequest:
    return messaging_pb2.MarkMessagesRequest(user_id=user_id, message_ids=list(ids))


async def statuses(messaging: Messaging, *ids: int) -> list[str]:
    rows = dict(await messaging.query(
        f"SELECT id, status FROM chat_messages WHERE id IN ({', '.join(['%s'] * len(ids))})", *ids))
    return [rows[i] for i in ids]


async def test_delivered_receipt_updates_the_message_and_tells_the_sender(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    events = await messaging.subscriber()
    await events.watch(customer)
    msg = (await messaging.send(session.session_id, customer)).message

    reply = await messaging.stub.MarkDelivered(delivered(agent, msg.id))
    [change] = reply.changes
    assert (change.message_id, change.session_id, change.sender_id, change.status) == (
        msg.id, session.session_id, customer, "delivered")
    assert await statuses(messaging, msg.id) == ["delivered"]
    assert await messaging.query(
        "SELECT delivered, delivered_at IS NOT NULL FROM offline_messages WHERE message_id = %s", msg.id) == [(1, 1)]

    event = (await eventually(lambda: events.of(customer, "message_status")))[0]["data"]
    assert event == {"message_id": msg.id, "session_id": session.session_id, "status": "delivered",
                     "timestamp": change.timestamp}


async def test_repeated_receipts_and_the_senders_own_acks_change_nothing(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    msg = (await messaging.send(session.session_id, customer)).message
    assert len((await messaging.stub.MarkDelivered(delivered(agent, msg.id))).changes) == 1
    assert len((await messaging.stub2.MarkDelivered(delivered(agent, msg.id))).changes) == 0
    assert len((await messaging.stub.MarkDelivered(delivered(customer, msg.id))).changes) == 0
    assert len((await messaging.stub.MarkRead(delivered(customer, msg.id))).changes) == 0
    assert await statuses(messaging, msg.id) == ["delivered"]


async def test_statuses_only_move_forward(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    events = await messaging.subscriber()
    await events.watch(agent)
    msg = (await messaging.send(session.session_id, agent, role="agent")).message
    [read] = (await messaging.stub.MarkRead(delivered(customer, msg.id))).changes
    assert read.status == "read"
    assert (await messaging.stub.MarkDelivered(delivered(customer, msg.id))).changes == []
    assert await statuses(messaging, msg.id) == ["read"]
    assert await messaging.query(
        "SELECT read_at IS NOT NULL, delivered_at IS NOT NULL FROM chat_messages WHERE id = %s", msg.id) == [(1, 1)]

    # The late delivered receipt is not announced: the sender's ticks never go from read back to delivered.
    marker = (await messaging.send(session.session_id, agent, role="agent", text="marker")).message
    await messaging.stub.MarkDelivered(delivered(customer, marker.id))
    await eventually(lambda: any(e["data"]["message_id"] == marker.id for e in events.of(agent, "message_status")))
    assert [e["data"]["status"] for e in events.of(agent, "message_status")
            if e["data"]["message_id"] == msg.id] == ["read"]


async def test_only_a_recipient_may_acknowledge(messaging: Messaging) -> None:
    session, customer, _ = await messaging.session()
    msg = (await messaging.send(session.session_id, customer)).message
    outsider = new_user()
    # A message not sent to the caller is answered like one that does not exist: ids cannot be probed.
    with pytest.raises(NotFound):
        await messaging.stub.MarkDelivered(delivered(outsider, msg.id))
    with pytest.raises(NotFound):
        await messaging.stub.MarkRead(delivered(outsider, msg.id))
    with pytest.raises(NotFound):
        await messaging.stub.MarkDelivered(delivered(customer, msg.id, 2**62))
    with pytest.raises(InvalidArgument):
        await messaging.stub.MarkDelivered(delivered(customer, *range(1, 502)))
    assert await statuses(messaging, msg.id) == ["sent"]


async def test_reading_a_message_reads_everything_before_it(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    events = await messaging.subscriber()
    await events.watch(agent)
    sent = [(await messaging.send(session.session_id, agent, role="agent", text=f"a{i}")).message for i in range(3)]
    own = (await messaging.send(session.session_id, customer, text="mine")).message
    after = (await messaging.send(session.session_id, agent, role="agent", text="later")).message
    await messaging.stub.MarkDelivered(delivered(customer, sent[0].id))

    reply = await messaging.stub.MarkRead(delivered(customer, sent[2].id))
    assert sorted((c.message_id, c.status) for c in reply.changes) == [(m.id, "read") for m in sent]
    assert await statuses(messaging, *(m.id for m in sent), own.id, after.id) == [
        "read", "read", "read", "sent", "sent"]
    pending = await messaging.query(
        "SELECT message_id FROM offline_messages WHERE user_id = %s AND delivered = FALSE", customer)
    assert pending == [(after.id,)]
    await eventually(lambda: {e["data"]["message_id"] for e in events.of(agent, "message_status")
                              if e["data"]["status"] == "read"} == {m.id for m in sent})


async def test_read_up_to_a_sequence(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    sent = [(await messaging.send(session.session_id, customer, text=f"u{i}")).message for i in range(4)]
    reply = await messaging.stub.MarkReadUpTo(messaging_pb2.MarkReadUpToRequest(
        user_id=agent, session_id=session.session_id, sequence_number=3))
    assert sorted(c.message_id for c in reply.changes) == [m.id for m in sent[:3]]
    assert await statuses(messaging, *(m.id for m in sent)) == ["read", "read", "read", "sent"]

    with pytest.raises(NotFound):
        await messaging.stub.MarkReadUpTo(messaging_pb2.MarkReadUpToRequest(
            user_id=new_user(), session_id=session.session_id, sequence_number=3))
    with pytest.raises(NotFound):
        await messaging.stub.MarkReadUpTo(messaging_pb2.MarkReadUpToRequest(
            user_id=agent, session_id="no-such-session", sequence_number=3))
