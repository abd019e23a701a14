"""Batch RPCs: one call, one outcome per request in order; a bad request fails alone."""

from __future__ import annotations

from protos import messaging_pb2
from tests.messaging.conftest import Messaging, new_user


async def _conversation(messaging: Messaging) -> tuple[int, int, str]:
    customer, agent = new_user(), new_user()
    session = (await messaging.stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))).session
    await messaging.stub.AssignAgent(messaging_pb2.AssignAgentRequest(session_id=session.session_id, agent_id=agent))
    return customer, agent, session.session_id


async def test_a_send_batch_keeps_its_order_and_fails_bad_items_alone(messaging: Messaging) -> None:
    customer, agent, session_id = await _conversation(messaging)
    outsider = new_user()

    def send(sender: int, role: str, text: str) -> messaging_pb2.SendMessageRequest:
        return messaging_pb2.SendMessageRequest(sender_id=sender, sender_role=role, session_id=session_id, text=text)

    reply = await messaging.stub.SendMessageBatch(messaging_pb2.SendMessageBatchRequest(requests=[
        send(customer, "user", "one"), send(outsider, "user", "intruder"), send(agent, "agent", "two"),
        send(customer, "user", ""), send(customer, "user", "three"),
    ]))
    kinds = [r.WhichOneof("result") for r in reply.results]
    assert kinds == ["ok", "error", "ok", "error", "ok"]
    assert [reply.results[i].error.code for i in (1, 3)] == ["NOT_FOUND", "INVALID_ARGUMENT"]  # not yours = none
    stored = [reply.results[i].ok.message for i in (0, 2, 4)]
    assert [m.text for m in stored] == ["one", "two", "three"]
    assert [m.sequence_number for m in stored] == [1, 2, 3]


async def test_a_delivered_batch_answers_each_receipt(messaging: Messaging) -> None:
    customer, agent, session_id = await _conversation(messaging)
    sent = await messaging.stub.SendMessage(messaging_pb2.SendMessageRequest(
        sender_id=customer, sender_role="user", session_id=session_id, text="hello"))
    message_id = sent.message.id

    reply = await messaging.stub.MarkDeliveredBatch(messaging_pb2.MarkMessagesBatchRequest(requests=[
        messaging_pb2.MarkMessagesRequest(user_id=agent, message_ids=[message_id]),
        messaging_pb2.MarkMessagesRequest(user_id=new_user(), message_ids=[message_id]),
        messaging_pb2.MarkMessagesRequest(user_id=agent, message_ids=[message_id]),  # a second device: no-op
        messaging_pb2.MarkMessagesRequest(user_id=agent, message_ids=[2**62]),
    ]))
    assert [r.WhichOneof("result") for r in reply.results] == ["ok", "error", "ok", "error"]
    assert [c.status for c in reply.results[0].ok.changes] == ["delivered"]
    assert list(reply.results[2].ok.changes) == []
    assert [reply.results[i].error.code for i in (1, 3)] == ["NOT_FOUND", "NOT_FOUND"]  # not yours = none
