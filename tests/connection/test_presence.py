"""``presence``: a session's participants hear when the other side goes online or offline — whichever edge
node either side is on, and also when the other side's edge dies."""

from __future__ import annotations

from typing import Any

from tests.conftest import Connect
from tests.support.polling import eventually
from tests.support.users import SocketUser, open_conversation

FAST_CLEANUP = {
    "SWITCHBOARD_HEARTBEAT_TIMEOUT_SECONDS": "2",
    "SWITCHBOARD_HEARTBEAT_FLUSH_SECONDS": "0.5",
    "SWITCHBOARD_CLEANUP_INTERVAL_SECONDS": "0.5",
}


def seen(user: SocketUser, of: SocketUser) -> list[bool]:
    return [event["online"] for event in user.events["presence"] if event["user_id"] == of.user_id]


async def test_the_customer_hears_the_agent_go_offline_and_come_back(connect: Connect) -> None:
    customer = await connect("user", node=0)
    agent = await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)

    await agent.close()
    offline = await customer.wait_for("presence")
    assert offline["last_seen"].endswith("Z")
    assert offline == {"user_id": agent.user_id, "online": False, "last_seen": offline["last_seen"],
                       "session_id": session_id}

    laptop = await connect("agent", node=1, user_id=agent.user_id, device_id="laptop")
    online = await customer.wait_for("presence", count=2)
    assert online[1] == {"user_id": agent.user_id, "online": True, "last_seen": "", "session_id": session_id}

    # A second device while one is online, and the first one leaving while the second stays, change nothing:
    # the next event the customer hears is the agent's last device leaving.
    phone = await connect("agent", node=0, user_id=agent.user_id, device_id="phone")
    await laptop.close()
    await phone.close()
    await customer.wait_for("presence", count=3)
    assert seen(customer, agent) == [False, True, False]


async def test_a_page_that_loads_asks_who_is_online_now(connect: Connect) -> None:
    """``presence`` pushes tell changes only; ``session_presence`` tells the state a page starts from."""
    customer = await connect("user", node=0)
    agent = await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)

    async def agent_state() -> dict[str, Any]:
        reply = await customer.call("session_presence", {"session_id": session_id})
        assert reply["success"] and reply["session_id"] == session_id, reply
        [state] = reply["participants"]
        assert state["user_id"] == agent.user_id
        return state

    assert (await agent_state())["online"] is True
    [seen_by_agent] = (await agent.call("session_presence", {"session_id": session_id}))["participants"]
    assert seen_by_agent["user_id"] == customer.user_id and seen_by_agent["online"] is True
    await agent.close()
    await customer.wait_for("presence")
    offline = await agent_state()
    assert offline["online"] is False and offline["last_seen"].endswith("Z")
    outsider = await connect("user", node=1)
    refused = await outsider.call("session_presence", {"session_id": session_id})
    assert refused["error"]["code"] == "NOT_FOUND"  # not yours = does not exist


async def test_the_customer_hears_the_agent_go_offline_when_the_agents_edge_is_killed(make_system) -> None:
    system = await make_system(edges=2, env=FAST_CLEANUP)
    customer = await SocketUser(system.edges[0].url, 911, system.token(911)).join()
    agent = await SocketUser(system.edges[1].url, 912, system.token(912, "agent")).join()
    try:
        session_id = await open_conversation(customer, agent)
        await agent.call("heartbeat", {"connection_id": agent.connection_id})  # its row goes stale, not its socket
        await system.edges[1].process.kill()

        async def keep_beating() -> list[Any]:
            await customer.call("heartbeat", {"connection_id": customer.connection_id})
            return [e for e in customer.events["presence"] if e["user_id"] == agent.user_id and not e["online"]]

        [offline] = await eventually(keep_beating, timeout=30, interval=0.3)
        assert offline["session_id"] == session_id
    finally:
        await agent.close()
        await customer.close()
