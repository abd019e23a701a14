"""What an agent console needs, end to end through the edges: list_sessions (by scope, paged), transfer_session
and close_session, each with session_updated on every device of every party. The authorization matrix for these
events is in test_hostile_events.py."""

from __future__ import annotations

from typing import Any

from tests.conftest import Connect
from tests.support.polling import eventually
from tests.support.users import SocketUser, open_conversation


async def _updated(user: SocketUser, reason: str) -> dict[str, Any]:
    """The user's first ``session_updated`` with this reason (``agent_joined`` comes first)."""
    found = await eventually(lambda: [u for u in user.events["session_updated"] if u["reason"] == reason])
    return found[0]


async def test_a_transfer_goes_to_an_agent_only_and_reaches_every_device_of_every_party(connect: Connect) -> None:
    customer, agent, target = await connect("user"), await connect("agent"), await connect("agent", node=1)
    agent_phone = await connect("agent", node=1, user_id=agent.user_id)
    session_id = await open_conversation(customer, agent)
    another_customer = await connect("user")
    for not_staff in (another_customer.user_id, 987_654_321):  # a customer; an id that never registered
        refused = await agent.call("transfer_session", {"session_id": session_id, "agent_id": not_staff})
        assert refused["error"]["code"] == "INVALID_ARGUMENT" and "not an agent" in refused["error"]["message"]
    moved = await agent.call("transfer_session", {"session_id": session_id, "agent_id": target.user_id})
    assert moved["success"] and moved["session"]["agent_id"] == target.user_id, moved
    for someone in (customer, agent, agent_phone, target):
        assert (await _updated(someone, "transferred"))["agent_id"] == target.user_id
    assert (await target.call("send_message", {"session_id": session_id, "message": "I take it from here"}))[
        "success"]
    assert (await customer.wait_for("new_message"))["from_user_id"] == target.user_id
    gone = await agent.call("send_message", {"session_id": session_id, "message": "still mine?"})
    assert gone["error"]["code"] == "NOT_FOUND", gone
    assert [s["session_id"] for s in (await target.call("list_sessions", {}))["sessions"]] == [session_id]
    assert not (await agent.call("list_sessions", {"status": "open"}))["sessions"]


async def test_a_closed_session_refuses_sends_and_joins_and_the_customer_opens_a_new_one(connect: Connect) -> None:
    customer, agent = await connect("user"), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    closed = await agent.call("close_session", {"session_id": session_id})
    assert closed["success"] and closed["session"]["status"] == "closed", closed
    for someone in (customer, agent):
        assert (await _updated(someone, "closed"))["status"] == "closed"
    for someone in (customer, agent):
        refused = await someone.call("send_message", {"session_id": session_id, "message": "hello?"})
        assert refused["error"]["code"] == "FORBIDDEN", refused
    for staff in (await connect("agent"), agent, await connect("admin", node=1)):  # nobody takes a closed one
        refused = await staff.call("join_session", {"session_id": session_id})
        assert refused["error"]["code"] == "FORBIDDEN", refused
    reopened = await customer.call("open_session", {})
    assert reopened["session_id"] != session_id and reopened["session"]["status"] == "open"
    # the customer's own sessions, one per page, oldest first
    first = await customer.call("list_sessions", {"limit": 1})
    second = await customer.call("list_sessions", {"limit": 1, "cursor": first["next_cursor"]})
    assert [first["has_more"], second["has_more"]] == [True, False]
    assert [s["session_id"] for s in first["sessions"] + second["sessions"]] == [session_id, reopened["session_id"]]
    assert [s["session_id"] for s in (await customer.call("list_sessions", {"status": "closed"}))["sessions"]] == [
        session_id]


async def test_the_waiting_queue_is_for_agents_and_everything_for_admins(connect: Connect) -> None:
    customer, agent, admin = await connect("user"), await connect("agent"), await connect("admin", node=1)
    waiting = (await customer.call("open_session", {}))["session_id"]

    async def every_page(user: SocketUser, scope: str) -> list[str]:
        found, cursor, more = [], 0, True
        while more:
            page = await user.call("list_sessions", {"scope": scope, "cursor": cursor, "limit": 100})
            assert page["success"], page
            found += [s["session_id"] for s in page["sessions"]]
            cursor, more = page["next_cursor"], page["has_more"]
        return found

    assert waiting in await every_page(agent, "waiting")
    assert waiting in await every_page(admin, "all")
    for user, scope in ((customer, "waiting"), (customer, "all"), (agent, "all")):
        assert (await user.call("list_sessions", {"scope": scope}))["error"]["code"] == "FORBIDDEN"
    for bad in ({"scope": "everything"}, {"limit": 101}, {"limit": 0}, {"cursor": -1}, {"status": "gone"}):
        assert (await agent.call("list_sessions", bad))["error"]["code"] == "INVALID_ARGUMENT", bad
    joined = await agent.call("join_session", {"session_id": waiting})
    assert joined["success"] and waiting not in await every_page(agent, "waiting")
