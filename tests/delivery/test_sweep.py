"""The delivery sweep: a message an online recipient never acknowledged is pushed to it again, whether its live
push was lost or its device did not confirm it, until a device acknowledges it."""

from __future__ import annotations

import asyncio

from tests.support.polling import eventually
from tests.support.users import SocketUser, open_conversation

FAST_SWEEP = {"SWITCHBOARD_DELIVERY_SWEEP_AGE_SECONDS": "1", "SWITCHBOARD_DELIVERY_SWEEP_INTERVAL_SECONDS": "0.3"}


def pushes(user: SocketUser, message_id: int) -> int:
    return sum(1 for m in user.events["new_message"] if m["id"] == message_id)


async def test_a_message_committed_but_never_published_reaches_its_online_recipient(make_system) -> None:
    system = await make_system(edges=1, env=FAST_SWEEP)
    customer = await SocketUser(system.edges[0].url, 2101, system.token(2101)).join()
    agent = await SocketUser(system.edges[0].url, 2102, system.token(2102, "agent")).join()
    session_id = await open_conversation(customer, agent)
    # What a replica that died between its COMMIT and its publish leaves behind: the rows, and no push.
    await system.query("UPDATE chat_sessions SET last_sequence = 1 WHERE session_id = %s", session_id)
    await system.query(
        "INSERT INTO chat_messages (session_id, sender_role, from_user_id, to_user_id, message, sequence_number,"
        " sent_at) VALUES (%s, 'user', 2101, 2102, 'your refund is done', 1, NOW(3))", session_id)
    ((message_id,),) = await system.query("SELECT id FROM chat_messages WHERE session_id = %s", session_id)
    await system.query("INSERT INTO offline_messages (user_id, message_id, session_id, sequence_number)"
                       " VALUES (2102, %s, %s, 1)", message_id, session_id)

    await eventually(lambda: pushes(agent, message_id) >= 1)
    assert [m["text"] for m in agent.events["new_message"]][:1] == ["your refund is done"]


async def test_pushes_repeat_until_a_device_acknowledges_then_stop(make_system) -> None:
    system = await make_system(edges=1, env=FAST_SWEEP)
    customer = await SocketUser(system.edges[0].url, 2201, system.token(2201)).join()
    agent = await SocketUser(system.edges[0].url, 2202, system.token(2202, "agent")).join()
    session_id = await open_conversation(customer, agent)
    ack = await customer.call("send_message", {"session_id": session_id, "message": "still there?"})
    message_id = ack["message_id"]

    await eventually(lambda: pushes(agent, message_id) >= 2)
    assert (await agent.call("message_delivered", {"message_id": message_id}))["success"]
    settled = pushes(agent, message_id)
    await asyncio.sleep(3)  # several sweep passes (0.3 s apart, rows due after 1 s)
    assert pushes(agent, message_id) == settled
