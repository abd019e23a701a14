"""``switchboard send-system``: a message from ``system`` into a session (or the customer's latest open one)
through messaging's SendSystemMessage, stored, sequenced and delivered like any other."""

from __future__ import annotations

from protos import messaging_pb2
from switchboard.ops.output import table
from switchboard.ops.sources import Sources


async def send_system(src: Sources, text: str, session_id: str = "", user_id: int = 0,
                      idempotency_key: str = "") -> str:
    reply = await src.messaging().SendSystemMessage(messaging_pb2.SendSystemMessageRequest(
        session_id=session_id, user_id=user_id, text=text, message_type="text", idempotency_key=idempotency_key))
    m = reply.message
    return table(("message", "session", "seq", "status", "duplicate"),
                 [(m.id, m.session_id, m.sequence_number, m.status, reply.duplicate)])
