"""SyncHistory and FetchPending: paging, participants only, per-session order of what is still undelivered."""

from __future__ import annotations

import pytest

from protos import messaging_pb2
from switchboard.errors import NotFound
from tests.messaging.conftest import Messaging, new_user


async def test_sync_history_pages_in_sequence_order(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    for i in range(7):
        await messaging.send(session.session_id, customer, text=f"m{i + 1}")

    def page(after: int, limit: int) -> messaging_pb2.SyncHistoryRequest:
        return messaging_pb2.SyncHistoryRequest(user_id=agent, session_id=session.session_id,
                                                after_sequence=after, limit=limit)

    first = await messaging.stub.SyncHistory(page(0, 3))
    assert [m.sequence_number for m in first.messages] == [1, 2, 3] and first.has_more
    second = await messaging.stub2.SyncHistory(page(first.next_cursor, 3))
    assert [m.text for m in second.messages] == ["m4", "m5", "m6"] and second.has_more
    last = await messaging.stub.SyncHistory(page(second.next_cursor, 3))
    assert [m.sequence_number for m in last.messages] == [7] and not last.has_more
    assert not (await messaging.stub.SyncHistory(page(7, 3))).messages


async def test_sync_history_is_for_participants(messaging: Messaging) -> None:
    """Someone else's session is answered like a session that does not exist: ids cannot be probed."""
    session, _, _ = await messaging.session()
    with pytest.raises(NotFound):
        await messaging.stub.SyncHistory(messaging_pb2.SyncHistoryRequest(
            user_id=new_user(), session_id=session.session_id, limit=10))
    with pytest.raises(NotFound):
        await messaging.stub.SyncHistory(messaging_pb2.SyncHistoryRequest(
            user_id=new_user(), session_id="no-such-session", limit=10))


async def test_fetch_pending_pages_per_session_in_order_and_skips_delivered(messaging: Messaging) -> None:
    agent = new_user()
    sessions = []
    for _ in range(3):
        customer = new_user()
        s = (await messaging.stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))).session
        await messaging.stub.AssignAgent(messaging_pb2.AssignAgentRequest(session_id=s.session_id, agent_id=agent))
        sessions.append((s.session_id, customer))
    sent = []
    for round_ in range(4):  # interleaved across sessions and replicas
        for n, (session_id, customer) in enumerate(sessions):
            stub = messaging.stub if (round_ + n) % 2 else messaging.stub2
            sent.append((await messaging.send(session_id, customer, text=f"r{round_}", stub=stub)).message)
    acked = sent[4]
    await messaging.stub.MarkDelivered(messaging_pb2.MarkMessagesRequest(user_id=agent, message_ids=[acked.id]))

    fetched, cursor, pages = [], 0, 0
    while True:
        page = await messaging.stub.FetchPending(messaging_pb2.FetchPendingRequest(
            user_id=agent, limit=5, after_id=cursor))
        fetched += page.messages
        cursor, pages = page.next_cursor, pages + 1
        if not page.has_more:
            break
    assert pages == 3
    assert sorted(m.id for m in fetched) == sorted(m.id for m in sent if m.id != acked.id)
    for session_id, _ in sessions:
        sequences = [m.sequence_number for m in fetched if m.session_id == session_id]
        assert sequences == sorted(sequences)
    assert all(m.status == "sent" for m in fetched)
    empty = await messaging.stub.FetchPending(messaging_pb2.FetchPendingRequest(user_id=agent, after_id=cursor))
    assert not empty.messages and not empty.has_more and empty.next_cursor == cursor
