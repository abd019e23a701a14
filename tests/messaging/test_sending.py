"""Storing and publishing a message are one unit: a caller that gives up cannot leave a message committed but
never published, and a retried send reaches whoever has not acknowledged the original yet."""

from __future__ import annotations

import aiomysql
import pytest

from protos import messaging_pb2
from switchboard.db import MySQLURL
from switchboard.errors import Unavailable
from tests.messaging.conftest import Messaging, eventually


async def test_a_send_whose_caller_gave_up_mid_transaction_is_still_published(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    events = await messaging.subscriber()
    await events.watch(agent)
    # A hung database, as the caller sees it: the session's row is locked, so the writer's transaction waits.
    blocker = await aiomysql.connect(**MySQLURL.parse(messaging.system.mysql_url).connect_kwargs())
    try:
        async with blocker.cursor() as cur:
            await cur.execute("BEGIN")
            await cur.execute("SELECT id FROM chat_sessions WHERE session_id = %s FOR UPDATE", (session.session_id,))
            with pytest.raises(Unavailable):  # the deadline passes while the batch is inside the transaction
                await messaging.stub.SendMessage(messaging_pb2.SendMessageRequest(
                    session_id=session.session_id, sender_id=customer, sender_role="user", text="refund done?",
                    client_msg_id="gave-up-1"), timeout=1.0)
            await cur.execute("COMMIT")
    finally:
        blocker.close()

    pushed = await eventually(lambda: events.of(agent, "new_message"), what="the committed message published")
    assert [e["data"]["text"] for e in pushed] == ["refund done?"]
    stored = await messaging.query("SELECT id FROM chat_messages WHERE session_id = %s", session.session_id)
    assert [row[0] for row in stored] == [pushed[0]["data"]["id"]]


async def test_a_retried_send_is_published_again_until_the_recipient_acknowledges(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    events = await messaging.subscriber()
    await events.watch(agent)
    first = await messaging.send(session.session_id, customer, text="are you there?", client_msg_id="retry-1")
    again = await messaging.send(session.session_id, customer, text="are you there?", client_msg_id="retry-1")
    assert again.duplicate and again.message.id == first.message.id
    await eventually(lambda: len(events.of(agent, "new_message")) == 2, what="the duplicate published again")

    await messaging.stub.MarkDelivered(messaging_pb2.MarkMessagesRequest(user_id=agent, message_ids=[first.message.id]))
    third = await messaging.send(session.session_id, customer, text="are you there?", client_msg_id="retry-1")
    assert third.duplicate
    marker = await messaging.send(session.session_id, customer, text="marker")  # published after any repeat
    await eventually(lambda: events.of(agent, "new_message")[-1:] and
                     events.of(agent, "new_message")[-1]["data"]["id"] == marker.message.id, what="the marker")
    assert [e["data"]["id"] for e in events.of(agent, "new_message")] == [
        first.message.id, first.message.id, marker.message.id]
