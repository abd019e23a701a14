"""The socket.io wire shapes of server-pushed events, built from the gRPC messages.

Both the messaging service (publishing live events) and the edge (offline pushes, ``sync`` replies) send these
shapes, so they are built here once. Field names follow the product spec; ``timestamp`` and
``sequence_number`` are additions. ``time`` keeps the spec's ``HH:MM`` display form (UTC); ``timestamp`` is
the full ISO 8601 instant.
"""

from __future__ import annotations

from typing import Any

from protos import messaging_pb2


def display_time(iso: str) -> str:
    """``2024-01-01T12:00:00.000Z`` → ``12:00``."""
    return iso[11:16] if len(iso) >= 16 else iso


def new_message(msg: messaging_pb2.Message, offline: bool = False) -> dict[str, Any]:
    return {
        "id": msg.id,
        "session_id": msg.session_id,
        "from": getattr(msg, "from"),
        "from_user_id": msg.from_user_id or None,
        "to_user_id": msg.to_user_id or None,
        "text": msg.text,
        "time": display_time(msg.time),
        "timestamp": msg.time,
        "avatar": msg.avatar or None,
        "message_type": msg.message_type,
        "reply_to_message_id": msg.reply_to_message_id or None,
        "status": msg.status,
        "offline": offline,
        "sequence_number": msg.sequence_number,
        "client_msg_id": msg.client_msg_id or None,
    }


def message_status(change: messaging_pb2.StatusChange) -> dict[str, Any]:
    return {
        "message_id": change.message_id,
        "session_id": change.session_id,
        "status": change.status,
        "timestamp": change.timestamp,
    }


def session(s: messaging_pb2.Session, reason: str = "") -> dict[str, Any]:
    return {
        "session_id": s.session_id,
        "user_id": s.user_id,
        "agent_id": s.agent_id or None,
        "status": s.status,
        "last_sequence": s.last_sequence,
        "reason": reason,
    }


def queue_entry(s: messaging_pb2.Session, reason: str) -> dict[str, Any]:
    """A change of the waiting queue, for every agent and admin: the session as a queue entry (no ``agent_id``:
    agents are not told which colleague holds a session) and why it entered or left the queue."""
    return {
        "session_id": s.session_id,
        "user_id": s.user_id,
        "status": s.status,
        "last_sequence": s.last_sequence,
        "reason": reason,
    }
