"""A customer on one edge node and an agent on another talk through Switchboard."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import Connect
from tests.support.users import open_conversation


async def test_connect_replies_connected_with_the_socket_id(connect: Connect) -> None:
    user = await connect(register=False)
    connected = user.events["connected"][0]
    assert connected["success"] is True
    assert connected["socket_id"] == user.sio.get_sid()


async def test_register_replies_with_the_connection_and_socket(connect: Connect) -> None:
    user = await connect(register=False)
    reply = await user.register()
    assert reply["success"] is True
    assert reply["connection_id"] == user.connection_id
    assert reply["socket_id"] == user.sio.get_sid()
    assert reply["message"]


async def test_register_generates_a_connection_id_when_missing(connect: Connect) -> None:
    user = await connect(register=False)
    reply = await user.register(connection_id=None)
    assert reply["success"] is True
    assert uuid.UUID(reply["connection_id"])


async def test_agent_joining_notifies_the_customer(connect: Connect) -> None:
    customer, agent = await connect("user", node=0), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    update = await customer.wait_for("session_updated")
    assert update["session_id"] == session_id
    assert update["agent_id"] == agent.user_id


async def test_a_message_reaches_the_other_side_on_another_node(connect: Connect) -> None:
    customer, agent = await connect("user", node=0), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)

    ack = await customer.call("send_message", {"session_id": session_id, "message": "Hello", "role": "user",
                                               "message_type": "text"})
    assert ack["success"] is True
    assert isinstance(ack["message_id"], int) and ack["sequence_number"] == 1
    assert len(ack["time"]) == 5  # the spec's HH:MM

    received = await agent.wait_for("new_message")
    assert received["id"] == ack["message_id"]
    assert received["session_id"] == session_id
    assert received["from"] == "user"
    assert received["from_user_id"] == customer.user_id
    assert received["to_user_id"] == agent.user_id
    assert received["text"] == "Hello"
    assert received["message_type"] == "text"
    assert received["status"] == "sent"
    assert received["offline"] is False
    assert received["sequence_number"] == 1
    for field in ("time", "avatar", "reply_to_message_id"):
        assert field in received


async def test_any_unicode_text_arrives_exactly_as_sent(connect: Connect) -> None:
    customer, agent = await connect("user", node=0), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    text = '您好，订单 #42 "已发货" 😀 — naïve\\path \u2028 end'
    ack = await customer.call("send_message", {"session_id": session_id, "message": text, "role": "user"})
    assert ack["success"] is True
    assert (await agent.wait_for("new_message"))["text"] == text


async def test_the_senders_other_device_receives_the_message_but_the_sending_socket_does_not(
    connect: Connect,
) -> None:
    customer, agent = await connect("user", node=0), await connect("agent", node=1)
    phone = await connect("user", node=1, user_id=customer.user_id)
    session_id = await open_conversation(customer, agent)

    ack = await customer.call("send_message", {"session_id": session_id, "message": "from the desktop"})
    assert (await phone.wait_for("new_message"))["id"] == ack["message_id"]
    await agent.wait_for("new_message")
    await asyncio.sleep(0.3)  # give a wrongly routed copy time to arrive
    assert customer.events["new_message"] == []


async def test_receipts_reach_every_device_of_the_sender(connect: Connect) -> None:
    customer, agent = await connect("user", node=0), await connect("agent", node=1)
    phone = await connect("user", node=1, user_id=customer.user_id)
    session_id = await open_conversation(customer, agent)
    ack = await customer.call("send_message", {"session_id": session_id, "message": "read me"})
    await agent.wait_for("new_message")

    assert (await agent.call("message_delivered", {"message_id": ack["message_id"], "user_id": agent.user_id}))[
        "success"]
    assert (await agent.call("message_read", {"message_id": ack["message_id"]}))["success"]

    for device in (customer, phone):
        statuses = await device.wait_for("message_status", count=2)
        assert [(s["message_id"], s["status"]) for s in statuses] == [
            (ack["message_id"], "delivered"), (ack["message_id"], "read")]
        assert all(s["timestamp"] for s in statuses)


async def test_a_thousand_messages_each_way_arrive_once_in_order_with_receipts(connect: Connect) -> None:
    customer, agent = await connect("user", node=0), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    n = 1000

    async def send_all(sender, prefix: str) -> list[dict]:
        acks = []
        for i in range(n):
            ack = await sender.call("send_message", {"session_id": session_id, "message": f"{prefix}{i}",
                                                     "client_msg_id": f"{prefix}-{i}"})
            assert ack["success"], ack
            acks.append(ack)
        return acks

    customer_acks, agent_acks = await asyncio.gather(send_all(customer, "c"), send_all(agent, "a"))
    to_agent = await agent.wait_for("new_message", count=n, timeout=60)
    to_customer = await customer.wait_for("new_message", count=n, timeout=60)

    # Exactly once, in the order sent, each side in per-session sequence order.
    assert [m["text"] for m in to_agent] == [f"c{i}" for i in range(n)]
    assert [m["text"] for m in to_customer] == [f"a{i}" for i in range(n)]
    for received in (to_agent, to_customer):
        seqs = [m["sequence_number"] for m in received]
        assert seqs == sorted(seqs) and len(set(seqs)) == n
    all_seqs = sorted(a["sequence_number"] for a in customer_acks + agent_acks)
    assert all_seqs == list(range(1, 2 * n + 1))

    # Every receipt reaches the sender.
    await agent.call("message_delivered", {"message_ids": [m["id"] for m in to_agent[:500]]})
    await agent.call("message_delivered", {"message_ids": [m["id"] for m in to_agent[500:]]})
    await customer.call("message_delivered", {"message_ids": [m["id"] for m in to_customer[:500]]})
    await customer.call("message_delivered", {"message_ids": [m["id"] for m in to_customer[500:]]})
    to_customer_status = await customer.wait_for("message_status", count=n, timeout=60)
    to_agent_status = await agent.wait_for("message_status", count=n, timeout=60)
    assert {s["message_id"] for s in to_customer_status} == {a["message_id"] for a in customer_acks}
    assert {s["message_id"] for s in to_agent_status} == {a["message_id"] for a in agent_acks}
