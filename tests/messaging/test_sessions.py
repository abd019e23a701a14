"""CloseSession, TransferSession and ListSessions: who may (not theirs = NOT_FOUND), the session_updated
events to every party, closed sessions refusing sends, a new session after a close, and paging."""

from __future__ import annotations

from typing import Any

import pytest

from protos import messaging_pb2
from switchboard.errors import Forbidden, InvalidArgument, NotFound
from tests.messaging.conftest import Messaging, Subscriber, eventually, new_user


async def _close(messaging: Messaging, session_id: str, actor: int, role: str) -> messaging_pb2.Session:
    return (await messaging.stub.CloseSession(messaging_pb2.CloseSessionRequest(
        session_id=session_id, actor_id=actor, actor_role=role))).session


async def _transfer(messaging: Messaging, session_id: str, actor: int, role: str,
                    agent: int) -> messaging_pb2.Session:
    return (await messaging.stub.TransferSession(messaging_pb2.TransferSessionRequest(
        session_id=session_id, actor_id=actor, actor_role=role, agent_id=agent))).session


async def _list(messaging: Messaging, actor: int, role: str, scope: str,
                **fields: object) -> messaging_pb2.SessionsPage:
    return await messaging.stub2.ListSessions(messaging_pb2.ListSessionsRequest(
        actor_id=actor, actor_role=role, scope=scope, **fields))


async def _update(events: Subscriber, user_id: int, reason: str) -> dict[str, Any]:
    """The user's first ``session_updated`` with this reason (an earlier ``agent_joined`` may arrive too)."""
    found = await eventually(lambda: [e["data"] for e in events.of(user_id, "session_updated")
                                      if e["data"]["reason"] == reason], what=f"{reason} to {user_id}")
    return found[0]


async def test_closing_notifies_the_participants_refuses_sends_and_takes_and_the_next_open_is_a_new_session(
        messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    events = await messaging.subscriber()
    await events.watch(customer, agent)
    closed = await _close(messaging, session.session_id, agent, "agent")
    assert closed.status == "closed"
    for uid in (customer, agent):
        update = await _update(events, uid, "closed")
        assert update["status"] == "closed"
    for sender, role in ((customer, "user"), (agent, "agent")):
        with pytest.raises(Forbidden):
            await messaging.send(session.session_id, sender, role=role)
    for taker, take_over in ((new_user(), False), (agent, False), (new_user(), True)):  # nobody takes it again
        with pytest.raises(Forbidden, match="closed"):
            await messaging.stub.AssignAgent(messaging_pb2.AssignAgentRequest(
                session_id=session.session_id, agent_id=taker, take_over=take_over))
    assert (await _close(messaging, session.session_id, customer, "user")).status == "closed"  # a no-op
    reopened = (await messaging.stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))).session
    assert reopened.session_id != session.session_id and reopened.status == "open"


async def test_who_may_close_the_customer_the_agent_an_admin_and_nobody_else(messaging: Messaging) -> None:
    for actor_of, role in ((lambda c, a: c, "user"), (lambda c, a: a, "agent"), (lambda c, a: new_user(), "admin")):
        session, customer, agent = await messaging.session()
        for outsider, outsider_role in ((new_user(), "user"), (new_user(), "agent"), (agent, "user"),
                                        (customer, "agent")):
            with pytest.raises(NotFound):  # not yours = does not exist; by seat, not by number
                await _close(messaging, session.session_id, outsider, outsider_role)
        assert (await _close(messaging, session.session_id, actor_of(customer, agent), role)).status == "closed"
    with pytest.raises(NotFound):
        await _close(messaging, "no-such-session", new_user(), "admin")


async def test_a_transfer_notifies_the_customer_and_both_agents(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    target = await messaging.agent()
    events = await messaging.subscriber()
    await events.watch(customer, agent, target)
    moved = await _transfer(messaging, session.session_id, agent, "agent", target)
    assert moved.agent_id == target
    for uid in (customer, agent, target):
        assert (await _update(events, uid, "transferred"))["agent_id"] == target
    with pytest.raises(NotFound):  # the agent transferred away from is an outsider now
        await messaging.send(session.session_id, agent, role="agent")
    assert (await messaging.send(session.session_id, target, role="agent")).message.to_user_id == customer


async def test_who_may_transfer_its_agent_or_an_admin_to_an_agent_of_an_open_session(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    with pytest.raises(NotFound):
        await _transfer(messaging, session.session_id, new_user(), "agent", await messaging.agent())
    with pytest.raises(Forbidden):
        await _transfer(messaging, session.session_id, customer, "user", await messaging.agent())
    for not_an_agent in (customer, new_user()):  # a customer's id, an id that never registered
        with pytest.raises(InvalidArgument):
            await _transfer(messaging, session.session_id, agent, "agent", not_an_agent)
    admin, target = new_user(), await messaging.agent()
    assert (await _transfer(messaging, session.session_id, admin, "admin", target)).agent_id == target
    await _close(messaging, session.session_id, target, "agent")
    with pytest.raises(Forbidden):
        await _transfer(messaging, session.session_id, admin, "admin", await messaging.agent())


async def test_lists_by_scope_and_role_paged_by_cursor(messaging: Messaging) -> None:
    customer = new_user()
    ids = []
    for _ in range(3):
        opened = (await messaging.stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))).session
        ids.append(opened.session_id)
        await _close(messaging, opened.session_id, customer, "user")
    first = await _list(messaging, customer, "user", "mine", limit=2)
    assert [s.session_id for s in first.sessions] == ids[:2] and first.has_more
    second = await _list(messaging, customer, "user", "mine", limit=2, after=first.next_cursor)
    assert [s.session_id for s in second.sessions] == ids[2:] and not second.has_more
    assert not (await _list(messaging, customer, "user", "mine", status="open")).sessions

    waiting, _, _ = await messaging.session(with_agent=False)
    assigned, _, agent = await messaging.session()
    assert [s.session_id for s in (await _list(messaging, agent, "agent", "mine")).sessions] == [
        assigned.session_id]
    queue = await _all_pages(messaging, agent, "agent", "waiting")
    assert waiting.session_id in queue and assigned.session_id not in queue and not set(ids) & set(queue)
    assert {waiting.session_id, assigned.session_id, *ids} <= set(
        await _all_pages(messaging, new_user(), "admin", "all"))
    for role, scope in (("user", "waiting"), ("user", "all"), ("agent", "all")):
        with pytest.raises(Forbidden):
            await _list(messaging, new_user(), role, scope)
    with pytest.raises(InvalidArgument):
        await _list(messaging, agent, "agent", "everything")


async def _all_pages(messaging: Messaging, actor: int, role: str, scope: str) -> list[str]:
    found, after = [], 0
    while True:
        page = await _list(messaging, actor, role, scope, limit=100, after=after)
        found += [s.session_id for s in page.sessions]
        if not page.has_more:
            return found
        after = page.next_cursor
