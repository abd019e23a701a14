"""Delivery under faults, seen by the SDK against the real system: ticks, receipts after display, retried
receipts and sends, exactly-once display across an app restart."""

from __future__ import annotations

import asyncio
import logging
import re

import nats
import pytest

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


async def test_sends_refused_during_a_backend_outage_retry_briefly_and_resume(
        make_system, caplog: pytest.LogCaptureFixture) -> None:
    """messaging killed: the edge refuses with UNAVAILABLE. Retries stay short (≤ max_send_retry_interval, not
    the reconnect backoff), and everything queued goes as soon as messaging is back."""
    system: System = await make_system(edges=1)
    messaging = system.services["messaging"]
    uid, agent_id = next_user_id(), next_user_id()
    # Default reconnect settings on purpose: they must not leak into send retries.
    customer = AsyncWebSocketClient(system.edges[0].url)
    agent = AsyncWebSocketClient(system.edges[0].url)
    a_rec = Recorder(agent)
    try:
        assert await customer.connect(uid, system.token(uid), timeout=15)
        assert await agent.connect(agent_id, system.token(agent_id, "agent"), timeout=15)
        session_id = await conversation(customer, agent)
        caplog.set_level(logging.INFO, logger="client.sender")
        await messaging.kill()
        handles = [customer.send_message(session_id, f"during-outage-{i}") for i in range(3)]

        def retry_delays() -> list[float]:
            return [float(m.group(1)) for r in caplog.records
                    if (m := re.search(r"retrying in ([0-9.]+)s", r.getMessage()))]

        await eventually(lambda: len(retry_delays()) >= 7, timeout=30)
        await messaging.start()
        acks = await asyncio.wait_for(asyncio.gather(*handles), 30)
        assert [a["sequence_number"] for a in acks] == [1, 2, 3]
        assert max(retry_delays()) <= customer.max_send_retry_interval
        await eventually(lambda: a_rec.texts() == [f"during-outage-{i}" for i in range(3)])
        assert customer.is_connected()  # refusals are not a reason to drop the link
    finally:
        await customer.close()
        await agent.close()
