"""Edges reach every messaging replica: when one dies, conversations go on through the others."""

from __future__ import annotations

from tests.support.polling import eventually
from tests.support.users import SocketUser, open_conversation


async def test_sends_go_on_through_the_other_replica_when_one_is_killed(make_system) -> None:
    system = await make_system(edges=1, messaging_replicas=2)
    customer = await SocketUser(system.edges[0].url, 2301, system.token(2301)).join()
    agent = await SocketUser(system.edges[0].url, 2302, system.token(2302, "agent")).join()
    session_id = await open_conversation(customer, agent)
    await system.services["messaging"].kill()

    async def send(text: str) -> dict:
        return await customer.call("send_message", {"session_id": session_id, "message": text, "client_msg_id": text})

    # The edge's channel notices the dead connection; from then on every call goes to the live replica.
    async def sent_once() -> bool:
        return (await send("first after the kill"))["success"]

    await eventually(sent_once, timeout=10)
    replies = [await send(f"after-{i}") for i in range(20)]
    assert all(r["success"] for r in replies), replies
    await eventually(lambda: len({m["id"] for m in agent.events["new_message"]}) == 21)
