"""Delivery under faults, seen by the SDK against the real system: ticks, receipts after display, retried
receipts and sends, exactly-once display across an app restart."""

from __future__ import annotations

import nats

from client import AsyncWebSocketClient
from switchboard.nats import Subjects, encode
from tests.client.conftest import Recorder, SdkFactory, next_user_id
from tests.support.polling import eventually
from tests.support.system import System


async def conversation(customer: AsyncWebSocketClient, agent: AsyncWebSocketClient) -> str:
    session_id = await customer.open_session()
    await agent.join_session(session_id)
    return session_id


def ticks(rec: Recorder, message_id: int) -> list[str]:
    return [s["status"] for s in rec.events["message_status"] if s.get("message_id") == message_id]


async def test_ticks_never_move_backwards_on_any_device_of_the_sender(sdk: SdkFactory, system: System) -> None:
    """read and delivered in both orders, on two devices of the sender; a stale ``delivered`` (what a batched
    receipt announced late looks like) is pushed through the real edge after ``read``."""
    uid = next_user_id()
    phone, phone_rec = await sdk("user", user_id=uid, device_id="phone")
    _, laptop_rec = await sdk("user", user_id=uid, node=1, device_id="laptop")
    agent, _ = await sdk("agent", node=1, auto_ack_delivered=False)
    session_id = await conversation(phone, agent)
    read_first = await phone.send_message(session_id, "read before delivered")
    delivered_first = await phone.send_message(session_id, "delivered before read")

    await agent.send_message_read(message_id=read_first["message_id"])
    await agent.send_message_delivered(message_id=read_first["message_id"])
    await agent.send_message_delivered(message_id=delivered_first["message_id"])
    await agent.send_message_read(message_id=delivered_first["message_id"])
    nc = await nats.connect(system.nats.url)
    try:
        subject = Subjects(system.prefix).user(uid)
        for ack in (read_first, delivered_first):
            for status in ("delivered", "read"):  # late and repeated events, in the order that hurts
                await nc.publish(subject, encode("message_status", {
                    "message_id": ack["message_id"], "session_id": session_id, "status": status, "timestamp": 0}))
        # A marker behind them on the same subject: once it is seen, so were they.
        await nc.publish(subject, encode("typing", {"session_id": session_id, "user_id": 0, "is_typing": True}))
        await nc.flush()
    finally:
        await nc.close()
    for rec in (phone_rec, laptop_rec):
        await eventually(lambda rec=rec: any(t.get("user_id") == 0 for t in rec.events["typing"]))
        assert ticks(rec, read_first["message_id"]) == ["read"]
        assert ticks(rec, delivered_first["message_id"]) == ["delivered", "read"]
