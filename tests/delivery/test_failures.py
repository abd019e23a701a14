"""Whatever is lost in flight — an edge node killed mid-stream, NATS restarted — is delivered anyway."""

from __future__ import annotations

import asyncio

from switchboard.runner import NatsServer
from tests.support.polling import eventually
from tests.support.users import SocketUser, open_conversation


def ids(user: SocketUser) -> set[int]:
    """What the user's screen shows: every message once, whichever way it came (the SDK dedups by id)."""
    return {m["id"] for m in user.events["new_message"]}


async def test_messages_in_flight_to_a_killed_node_arrive_after_reconnecting_elsewhere(make_system) -> None:
    system = await make_system(edges=2)
    doomed_edge, other_edge = system.edges
    customer = await SocketUser(doomed_edge.url, 1101, system.token(1101)).join()
    agent = await SocketUser(other_edge.url, 1102, system.token(1102, "agent")).join()
    session_id = await open_conversation(customer, agent)

    async def send(n: int, prefix: str) -> list[int]:
        sent = []
        for i in range(n):
            ack = await agent.call("send_message", {"session_id": session_id, "message": f"{prefix}{i}"})
            sent.append(ack["message_id"])
        return sent

    before = await send(50, "a")
    await eventually(lambda: len(ids(customer)) == 50)
    await customer.call("message_delivered", {"message_ids": sorted(ids(customer))})
    seen_before_crash = ids(customer)

    sending = asyncio.create_task(send(150, "b"))
    await asyncio.sleep(0.05)
    await doomed_edge.process.kill()
    after = await sending

    back = SocketUser(other_edge.url, 1101, customer.token, device_id=customer.device_id)
    await back.join()
    await eventually(lambda: set(after) <= ids(back) | ids(customer), timeout=30)
    assert seen_before_crash == set(before)
    assert (ids(back) | ids(customer)) == set(before) | set(after)
    await back.close()
    await agent.close()


async def test_nothing_is_lost_when_nats_restarts_mid_stream(make_system, tmp_path) -> None:
    nats = NatsServer(tmp_path / "jetstream", log_path=tmp_path / "private-nats.log")
    await nats.start()
    try:
        system = await make_system(edges=2, nats=nats, env={"SWITCHBOARD_RETRY_BASE_SECONDS": "0.2",
                                                              "SWITCHBOARD_PUBLISH_TIMEOUT_SECONDS": "0.5"})
        customer = await SocketUser(system.edges[0].url, 1201, system.token(1201)).join()
        agent = await SocketUser(system.edges[1].url, 1202, system.token(1202, "agent")).join()
        session_id = await open_conversation(customer, agent)

        sent: list[int] = []
        for i in range(60):
            if i == 20:
                await nats.stop()
            if i == 40:
                await nats.start()
            ack = await agent.call("send_message", {"session_id": session_id, "message": f"n{i}"}, timeout=30)
            assert ack["success"], ack  # stored before it is acknowledged, NATS or not
            sent.append(ack["message_id"])

        await eventually(lambda: set(sent) - ids(customer), set(), timeout=60, interval=0.2)
        assert ids(customer) == set(sent)
        await eventually(lambda: system.query(
            "SELECT COUNT(*) FROM message_queue WHERE status IN ('pending', 'processing')"), [(0,)], timeout=30)
        await customer.close()
        await agent.close()
    finally:
        await nats.stop()
