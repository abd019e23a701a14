"""Identity comes from the verified token, never from a field the client typed."""

from __future__ import annotations

import pytest
import socketio

from tests.conftest import Connect
from tests.support.system import System
from tests.support.users import SocketUser, open_conversation


async def test_a_bad_token_in_the_connect_auth_is_refused(system: System) -> None:
    user = SocketUser(system.edges[0].url, 1, "not-a-jwt")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await user.connect(auth={"token": "not-a-jwt"})


async def test_register_with_a_bad_token_is_unauthenticated(connect: Connect) -> None:
    user = await connect(register=False)
    reply = await user.register(token="forged.token.value")
    assert reply == {"success": False, "error": {"code": "UNAUTHENTICATED", "reason": "TOKEN_INVALID",
                                                 "message": reply["error"]["message"]}}


async def test_register_with_an_expired_token_is_unauthenticated(system: System, connect: Connect) -> None:
    user = await connect(register=False)
    reply = await user.register(token=system.token(user.user_id, ttl=-10))
    assert (reply["error"]["code"], reply["error"]["reason"]) == ("UNAUTHENTICATED", "TOKEN_EXPIRED")


async def test_register_as_someone_else_is_forbidden(connect: Connect) -> None:
    user = await connect(register=False)
    reply = await user.register(user_id=user.user_id + 1)
    assert reply["error"]["code"] == "FORBIDDEN"


async def test_events_before_register_are_refused(connect: Connect) -> None:
    user = await connect(register=False)
    reply = await user.call("send_message", {"session_id": "x", "message": "hi"})
    assert reply["error"]["code"] == "NOT_REGISTERED"


async def test_sending_as_another_user_is_forbidden(connect: Connect) -> None:
    customer, agent = await connect("user"), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    reply = await customer.call("send_message", {"session_id": session_id, "message": "spoof",
                                                 "from_user_id": agent.user_id})
    assert reply["error"]["code"] == "FORBIDDEN"


async def test_claiming_the_agent_role_with_a_user_token_is_forbidden(connect: Connect) -> None:
    customer, agent = await connect("user"), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    reply = await customer.call("send_message", {"session_id": session_id, "message": "hi", "role": "agent"})
    assert reply["error"]["code"] == "FORBIDDEN"


async def test_someone_elses_session_looks_like_no_session(connect: Connect) -> None:
    """Refused with the same answer as an id that does not exist, so session ids cannot be probed."""
    customer, agent, outsider = await connect("user"), await connect("agent", node=1), await connect("user")
    session_id = await open_conversation(customer, agent)
    for event, payload in (("send_message", {"message": "let me in"}), ("sync", {}), ("typing", {})):
        theirs = await outsider.call(event, {"session_id": session_id, **payload})
        missing = await outsider.call(event, {"session_id": "no-such-session", **payload})
        assert theirs["error"]["code"] == missing["error"]["code"] == "NOT_FOUND", event
        assert theirs["error"]["message"].replace(session_id, "S") == missing["error"]["message"].replace(
            "no-such-session", "S")


async def test_someone_elses_message_looks_like_no_message(connect: Connect) -> None:
    customer, agent, outsider = await connect("user"), await connect("agent", node=1), await connect("user")
    session_id = await open_conversation(customer, agent)
    ack = await customer.call("send_message", {"session_id": session_id, "message": "private"})
    for event in ("message_read", "message_delivered"):
        theirs = await outsider.call(event, {"message_id": ack["message_id"]})
        missing = await outsider.call(event, {"message_id": 2**62})
        assert theirs["error"]["code"] == missing["error"]["code"] == "NOT_FOUND", event


async def test_only_customers_open_and_only_agents_join(connect: Connect) -> None:
    customer, agent = await connect("user"), await connect("agent")
    assert (await agent.call("open_session", {}))["error"]["code"] == "FORBIDDEN"
    opened = await customer.call("open_session", {})
    assert (await customer.call("join_session", {"session_id": opened["session_id"]}))["error"]["code"] == "FORBIDDEN"


async def test_a_socket_sending_faster_than_its_budget_is_rate_limited(make_system) -> None:
    system = await make_system(edges=1, env={"SWITCHBOARD_SEND_RATE_PER_SECOND": "0.01",
                                             "SWITCHBOARD_SEND_BURST": "3"})
    customer = await SocketUser(system.edges[0].url, 1301, system.token(1301)).join()
    agent = await SocketUser(system.edges[0].url, 1302, system.token(1302, "agent")).join()
    session_id = await open_conversation(customer, agent)
    replies = [await customer.call("send_message", {"session_id": session_id, "message": f"{i}"}) for i in range(5)]
    assert [r["success"] for r in replies] == [True, True, True, False, False]
    assert replies[3]["error"]["code"] == "RATE_LIMITED"
    # The agent's budget is its own.
    assert (await agent.call("send_message", {"session_id": session_id, "message": "still here"}))["success"]
    await customer.close()
    await agent.close()
