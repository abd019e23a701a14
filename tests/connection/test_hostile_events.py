"""Attacks with well-formed events: floods of every event, expired tokens, session spam, typing storms; and the
authorization matrix (who × every event), from the contract's own declaration."""

from __future__ import annotations

import asyncio
import json

import pytest

from switchboard.contract import EVENTS, RATE_CLASSES
from tests.conftest import Connect
from tests.support.polling import eventually
from tests.support.raw import RawSocket
from tests.support.users import SocketUser, open_conversation

# A payload for each event that passes validation (the call may still fail downstream: not found, …).
VALID = {
    "register": lambda u: {"user_id": u.user_id, "device_id": u.device_id, "connection_id": u.connection_id},
    "heartbeat": lambda u: {},
    "open_session": lambda u: {},
    "join_session": lambda u: {"session_id": u.session_id},
    "send_message": lambda u: {"session_id": u.session_id, "message": "hi"},
    "message_delivered": lambda u: {"message_id": u.message_id},
    "message_read": lambda u: {"message_id": u.message_id},
    "sync": lambda u: {"session_id": u.session_id},
    "session_presence": lambda u: {"session_id": u.session_id},
    "typing": lambda u: {"session_id": u.session_id, "is_typing": True},
    "list_devices": lambda u: {},
    "kick_device": lambda u: {"device_id": "not-a-device-of-mine"},
    "update_push_token": lambda u: {"push_token": "tok"},
    "list_sessions": lambda u: {},
    "transfer_session": lambda u: {"session_id": u.session_id, "agent_id": u.transfer_to},
    "close_session": lambda u: {"session_id": u.session_id},
}


def test_every_event_of_the_contract_is_exercised_here() -> None:
    assert set(VALID) == set(EVENTS)


async def test_every_event_is_rate_limited_per_socket_and_per_user(make_system) -> None:
    """Every rate class: a burst of 2, then RATE_LIMITED; a second socket of the same user shares a user budget
    of 1.5 × (multiplier) the socket's."""
    env = {f"SWITCHBOARD_{c.upper()}_{k}": v for c in RATE_CLASSES
           for k, v in (("RATE_PER_SECOND", "0.001"), ("BURST", "2"))}
    system = await make_system(edges=1, env={**env, "SWITCHBOARD_USER_RATE_MULTIPLIER": "1.5"})
    url = system.edges[0].url
    for name, event in EVENTS.items():
        role = next(iter(sorted(event.roles)))
        uid = 1600 + list(EVENTS).index(name)
        user = SocketUser(url, uid, system.token(uid, role))
        await user.connect()
        if name != "register":
            assert (await user.register())["success"], name
        user.session_id, user.message_id, user.transfer_to = "no-such-session", 2**62, 1  # type: ignore[attr-defined]
        payload = VALID[name](user)
        spent = 1 if event.rate == "control" and name != "register" else 0  # register spent a control token
        replies = [await user.call(name, payload) for _ in range(3 - spent)]
        assert replies[-1].get("error", {}).get("code") == "RATE_LIMITED", (name, replies)
        assert all(r.get("error", {}).get("code") != "RATE_LIMITED" for r in replies[:-1]), (name, replies)
        await user.close()
    # Per user: two sockets of one user share 1.5 × 2 = 3 sync calls.
    a = await SocketUser(url, 1700, system.token(1700)).join()
    b = await SocketUser(url, 1700, system.token(1700)).join()
    codes = [(await s.call("sync", {"session_id": "x"}))["error"]["code"] for s in (a, b, a, b)]
    assert codes == ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "RATE_LIMITED"]


async def test_an_expired_token_stops_every_event_until_the_client_registers_a_fresh_one(system, connect) -> None:
    customer, agent = await connect("user"), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    user = SocketUser(system.edges[0].url, customer.user_id, system.token(customer.user_id, ttl=2))
    await user.join()

    async def sync_code() -> str:
        reply = await user.call("sync", {"session_id": session_id})
        return "OK" if reply["success"] else f"{reply['error']['code']}/{reply['error'].get('reason')}"

    assert await sync_code() == "OK"
    await eventually(sync_code, "UNAUTHENTICATED/TOKEN_EXPIRED")
    for event in ("send_message", "open_session", "typing", "heartbeat", "list_devices"):
        reply = await user.call(event, {"session_id": session_id, "message": "after expiry"})
        assert (reply["error"]["code"], reply["error"].get("reason")) == ("UNAUTHENTICATED", "TOKEN_EXPIRED"), (
            event, reply)
    no_token = await user.call("register", {"user_id": customer.user_id, "device_id": user.device_id})
    assert no_token["error"]["reason"] == "TOKEN_EXPIRED"
    someone_else = await user.register(token=system.token(customer.user_id + 1))
    assert someone_else["error"]["code"] == "FORBIDDEN"
    assert (await user.register(token=system.token(customer.user_id)))["success"]
    assert await sync_code() == "OK"


async def test_connect_error_carries_a_stable_code_expired_vs_invalid(system) -> None:
    raw = await RawSocket.open(system.edges[0].ws_url)
    expired = (await raw.join({"token": system.token(1, ttl=-5)}))["data"]
    assert (expired["code"], expired["reason"]) == ("UNAUTHENTICATED", "TOKEN_EXPIRED")
    invalid = (await raw.join({"token": "forged.token.value"}))["data"]
    assert (invalid["code"], invalid["reason"]) == ("UNAUTHENTICATED", "TOKEN_INVALID")
    await raw.close()


async def test_open_session_returns_the_customers_open_session(connect: Connect) -> None:
    """5,000 open_session used to create 5,000 sessions."""
    customer = await connect("user")
    replies = await asyncio.gather(*(customer.call("open_session", {}) for _ in range(200)))
    assert len({r["session_id"] for r in replies}) == 1


async def test_a_typing_storm_reaches_the_other_side_coalesced(connect: Connect) -> None:
    """2,000 notices in a burst: the agent hears at most one per interval (1 s) plus the trailing state, and the
    last state (stopped) always arrives."""
    customer, agent = await connect("user"), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for i in range(2000):
        await customer.sio.emit("typing", {"session_id": session_id, "is_typing": i % 2 == 0})
    assert (await customer.call("typing", {"session_id": session_id, "is_typing": False}))["success"]
    elapsed = loop.time() - started
    await eventually(lambda: agent.events["typing"] and agent.events["typing"][-1]["is_typing"] is False)
    assert len(agent.events["typing"]) <= elapsed / 1.0 + 2, (len(agent.events["typing"]), elapsed)


# --- the authorization matrix ----------------------------------------------------------------------------------

ACTORS = ("anonymous", "expired", "other_customer", "other_agent", "kicked_device", "customer", "agent", "admin")


async def _actors(system, connect: Connect) -> dict[str, object]:
    customer, agent = await connect("user"), await connect("agent", node=1)
    session_id = await open_conversation(customer, agent)
    ack = await customer.call("send_message", {"session_id": session_id, "message": "private"})
    anonymous = SocketUser(system.edges[0].url, 1, "")
    await anonymous.connect()
    expired = SocketUser(system.edges[0].url, customer.user_id, system.token(customer.user_id, ttl=2))
    await expired.join()
    kicked = await connect("user", user_id=customer.user_id, device_id="to-kick")
    assert (await customer.call("kick_device", {"device_id": "to-kick"}))["success"]
    await eventually(lambda: not kicked.sio.connected)
    actors = {"anonymous": anonymous, "expired": expired, "other_customer": await connect("user"),
              "other_agent": await connect("agent"), "kicked_device": kicked, "customer": customer,
              "agent": agent, "admin": await connect("admin")}
    for user in actors.values():  # a transfer hands the session back to its first agent
        user.session_id, user.message_id, user.transfer_to = (  # type: ignore[attr-defined]
            session_id, ack["message_id"], agent.user_id)
    await eventually(lambda: _expired(expired, session_id))
    return actors


async def _expired(user: SocketUser, session_id: str) -> bool:
    reply = await user.call("sync", {"session_id": session_id})
    return not reply["success"] and reply["error"].get("reason") == "TOKEN_EXPIRED"


# What each actor gets: "ok" (success), an error code, or "closed" (the connection is gone). Events acting on the
# customer's session/message answer NOT_FOUND to outsiders: not yours = does not exist.
EXPECTED: dict[str, dict[str, str]] = {
    "register": {"anonymous": "UNAUTHENTICATED", "expired": "UNAUTHENTICATED", "other_customer": "ok",
                 "other_agent": "ok", "customer": "ok", "agent": "ok", "admin": "ok"},
    "heartbeat": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "ok",
                  "other_agent": "ok", "customer": "ok", "agent": "ok", "admin": "ok"},
    "open_session": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "ok",
                     "other_agent": "FORBIDDEN", "customer": "ok", "agent": "FORBIDDEN", "admin": "FORBIDDEN"},
    "join_session": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "FORBIDDEN",
                     "other_agent": "FORBIDDEN", "customer": "FORBIDDEN", "agent": "ok", "admin": "ok"},
    "send_message": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "NOT_FOUND",
                     "other_agent": "NOT_FOUND", "customer": "ok", "agent": "NOT_FOUND", "admin": "ok"},
    "message_delivered": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED",
                          "other_customer": "NOT_FOUND", "other_agent": "NOT_FOUND", "customer": "ok",
                          "agent": "NOT_FOUND", "admin": "ok"},
    "message_read": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "NOT_FOUND",
                     "other_agent": "NOT_FOUND", "customer": "ok", "agent": "NOT_FOUND", "admin": "ok"},
    "sync": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "NOT_FOUND",
             "other_agent": "NOT_FOUND", "customer": "ok", "agent": "NOT_FOUND", "admin": "ok"},
    "session_presence": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED",
                         "other_customer": "NOT_FOUND", "other_agent": "NOT_FOUND", "customer": "ok",
                         "agent": "NOT_FOUND", "admin": "ok"},
    "typing": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "NOT_FOUND",
               "other_agent": "NOT_FOUND", "customer": "ok", "agent": "NOT_FOUND", "admin": "ok"},
    "list_devices": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "ok",
                     "other_agent": "ok", "customer": "ok", "agent": "ok", "admin": "ok"},
    "kick_device": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "NOT_FOUND",
                    "other_agent": "NOT_FOUND", "customer": "NOT_FOUND", "agent": "NOT_FOUND",
                    "admin": "NOT_FOUND"},
    "update_push_token": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "ok",
                          "other_agent": "ok", "customer": "ok", "agent": "ok", "admin": "ok"},
    "list_sessions": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "ok",
                      "other_agent": "ok", "customer": "ok", "agent": "ok", "admin": "ok"},
    # the admin took the session over (join_session) and hands it back to the agent
    "transfer_session": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED",
                         "other_customer": "FORBIDDEN", "other_agent": "NOT_FOUND", "customer": "FORBIDDEN",
                         "agent": "NOT_FOUND", "admin": "ok"},
    # the customer closes it; closing again (its agent, an admin) is a no-op
    "close_session": {"anonymous": "NOT_REGISTERED", "expired": "UNAUTHENTICATED", "other_customer": "NOT_FOUND",
                      "other_agent": "NOT_FOUND", "customer": "ok", "agent": "ok", "admin": "ok"},
}
for _row in EXPECTED.values():
    _row["kicked_device"] = "closed"


async def test_the_authorization_matrix(system, connect: Connect) -> None:
    """Every actor × every event of the contract, events in the contract's order. ``join_session`` by the
    session's own agent is a no-op success; by another agent FORBIDDEN (the session is taken) — without naming
    who holds it; by an admin a takeover: from then on the admin is the session's agent and the replaced agent
    an outsider (NOT_FOUND)."""
    assert set(EXPECTED) == set(EVENTS)
    actors = await _actors(system, connect)
    got: dict[str, dict[str, str]] = {}
    for name in EVENTS:
        got[name] = {}
        for actor in ACTORS:
            user = actors[actor]
            if not user.sio.connected:
                got[name][actor] = "closed"
                continue
            payload = VALID[name](user)
            if name == "register":
                token = "" if actor in ("anonymous", "expired") else user.token
                payload = {**payload, "token": token} if token else payload
            reply = await user.call(name, payload)
            got[name][actor] = "ok" if reply.get("success") else reply["error"]["code"]
            if name == "join_session" and actor == "other_agent":
                assert str(actors["agent"].user_id) not in json.dumps(reply)
    assert got == EXPECTED


@pytest.mark.parametrize("actor", ["other_customer", "other_agent"])
async def test_outsiders_get_the_same_answer_for_theirs_and_for_nothing(system, connect: Connect, actor: str) -> None:
    actors = await _actors(system, connect)
    user = actors[actor]
    for name in ("send_message", "sync", "session_presence", "typing", "message_read", "message_delivered",
                 "close_session",
                 *(("transfer_session",) if actor == "other_agent" else ())):
        theirs = await user.call(name, VALID[name](user))
        user.session_id, user.message_id, saved = "no-such-session", 2**62, (user.session_id, user.message_id)
        missing = await user.call(name, VALID[name](user))
        user.session_id, user.message_id = saved
        assert theirs["error"]["code"] == missing["error"]["code"] == "NOT_FOUND", name
