"""Rows → protobuf messages, in one place for the gRPC replies and the NATS events built from them."""

from __future__ import annotations

from protos import messaging_pb2
from services.messaging.store import MessageRow, SessionRow, StatusChangeRow
from switchboard.time import iso_epoch


def message_proto(row: MessageRow) -> messaging_pb2.Message:
    msg = messaging_pb2.Message(
        id=row.id, session_id=row.session_id, from_user_id=row.from_user_id, to_user_id=row.to_user_id or 0,
        text=row.text, time=iso_epoch(row.sent_at), message_type=row.message_type,
        reply_to_message_id=row.reply_to_message_id or 0, status=row.status, sequence_number=row.sequence_number,
        client_msg_id=row.client_msg_id or "",
    )
    setattr(msg, "from", row.sender_role)  # ``from`` is a Python keyword
    return msg


def session_proto(row: SessionRow) -> messaging_pb2.Session:
    return messaging_pb2.Session(
        session_id=row.session_id, user_id=row.user_id, agent_id=row.agent_id or 0, status=row.status,
        last_sequence=row.last_sequence, created_at=iso_epoch(row.created_at),
    )


def status_change_proto(row: StatusChangeRow) -> messaging_pb2.StatusChange:
    return messaging_pb2.StatusChange(
        message_id=row.message_id, session_id=row.session_id, sender_id=row.sender_id, status=row.status,
        timestamp=iso_epoch(row.at),
    )
