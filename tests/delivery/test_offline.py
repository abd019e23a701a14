"""Messages for a user with no connected device wait for them and arrive, once, when a device registers."""

from __future__ import annotations

import asyncio

from tests.conftest import Connect
from tests.support.polling import eventually
from tests.support.system import System
from tests.support.users import SocketUser, open_conversation


async def customer_gone(connect: Connect) -> tuple[SocketUser, SocketUser, str]:
    """A conversation whose customer (edge 0) has just closed its only socket; the agent stays on edge 1."""
    customer, agent = await connect("user", node=0), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    await customer.close()
    return customer, agent, session_id


async def test_five_hundred_offline_messages_arrive_once_in_order_on_another_node(
    system: System, connect: Connect
) -> None:
    customer, agent, session_id = await customer_gone(connect)

    acks = [await agent.call("send_message", {"session_id": session_id, "message": f"m{i}"}) for i in range(500)]
    assert all(a["success"] for a in acks)

    back = SocketUser(system.edges[1].url, customer.user_id, customer.token)
    await back.join()
    received = await back.wait_for("new_message", count=500, timeout=60)
    assert [m["text"] for m in received] == [f"m{i}" for i in range(500)]
    assert all(m["offline"] is True for m in received)
    assert [m["sequence_number"] for m in received] == [a["sequence_number"] for a in acks]

    for start in range(0, 500, 250):
        reply = await back.call("message_delivered", {"message_ids": [m["id"] for m in received[start:start + 250]]})
        assert reply["success"]
    await back.close()

    again = SocketUser(system.edges[0].url, customer.user_id, customer.token)
    await again.join()
    await asyncio.sleep(1)  # give a wrongly repeated backlog time to arrive
    assert again.events["new_message"] == []
    await again.close()


async def test_unacknowledged_messages_are_pushed_again_at_the_next_registration(
    system: System, connect: Connect
) -> None:
    customer, agent = await connect("user"), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    ack = await agent.call("send_message", {"session_id": session_id, "message": "did you get this?"})
    assert (await customer.wait_for("new_message"))["id"] == ack["message_id"]
    await customer.close()  # went away without acknowledging

    back = SocketUser(system.edges[0].url, customer.user_id, customer.token)
    await back.join()
    repeated = await back.wait_for("new_message")
    assert repeated["id"] == ack["message_id"] and repeated["offline"] is True
    await back.close()


async def test_history_sync_returns_exactly_what_was_missed(connect: Connect) -> None:
    customer, agent = await connect("user"), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    for i in range(30):
        await agent.call("send_message", {"session_id": session_id, "message": f"h{i}"})

    first = await customer.call("sync", {"session_id": session_id, "after_sequence": 10, "limit": 15})
    assert first["success"] and first["has_more"] is True
    assert [m["sequence_number"] for m in first["messages"]] == list(range(11, 26))
    rest = await customer.call("sync", {"session_id": session_id, "after_sequence": 25, "limit": 15})
    assert [m["text"] for m in rest["messages"]] == [f"h{i}" for i in range(25, 30)]
    assert rest["has_more"] is False


async def test_live_messages_never_overtake_the_backlog_pushed_at_registration(
    system: System, connect: Connect
) -> None:
    customer, agent, session_id = await customer_gone(connect)
    for i in range(300):
        await agent.call("send_message", {"session_id": session_id, "message": f"old{i}"})

    async def keep_talking() -> None:  # live messages while the backlog is being pushed
        for i in range(100):
            await agent.call("send_message", {"session_id": session_id, "message": f"live{i}"})

    back = SocketUser(system.edges[0].url, customer.user_id, customer.token)
    talking = asyncio.create_task(keep_talking())
    await back.join()
    await talking

    def shown() -> list[int]:
        """What a client shows: each id once, where it first arrived."""
        first_seen: dict[int, int] = {}
        for m in back.events["new_message"]:
            first_seen.setdefault(m["id"], m["sequence_number"])
        return list(first_seen.values())

    await eventually(lambda: len(shown()) == 400, timeout=60)
    assert shown() == sorted(shown())
    await back.close()
