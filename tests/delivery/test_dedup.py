"""A retried send is stored once and delivered once, whichever node the retry lands on."""

from __future__ import annotations

import asyncio

from tests.conftest import Connect
from tests.support.users import open_conversation


async def test_five_retries_across_two_nodes_make_one_message(system, connect: Connect) -> None:
    customer_a, agent = await connect("user", node=0), await connect("agent", node=1)
    customer_b = await connect("user", node=1, user_id=customer_a.user_id)
    session_id = await open_conversation(customer_a, agent)
    payload = {"session_id": session_id, "message": "pay my refund", "client_msg_id": "retry-me-1"}

    replies = await asyncio.gather(*(
        (customer_a if i % 2 == 0 else customer_b).call("send_message", payload) for i in range(5)
    ))
    assert {(r["message_id"], r["sequence_number"]) for r in replies} == {
        (replies[0]["message_id"], replies[0]["sequence_number"])}
    assert sorted(r["duplicate"] for r in replies) == [False, True, True, True, True]

    rows = await system.query(
        "SELECT COUNT(*) FROM chat_messages WHERE from_user_id = %s AND client_msg_id = %s",
        customer_a.user_id, "retry-me-1")
    assert rows == [(1,)]
    await agent.wait_for("new_message")
    await asyncio.sleep(0.5)  # a second message would arrive by now
    # The agent has not acknowledged it, so each retry may push the original again (its first publish may have
    # been lost); the screen, which drops repeats by id, shows one message.
    assert {m["id"] for m in agent.events["new_message"]} == {replies[0]["message_id"]}
