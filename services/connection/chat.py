"""Conversation events: sessions, messages, receipts, history and typing. The messaging service decides and
stores; this module checks payloads and identity and shapes the replies of the socket.io contract."""

from __future__ import annotations

import time
from typing import Any

from protos import messaging_pb2
from services.connection import validation as v
from services.connection.dispatch import bind
from services.connection.edge import Edge, check_claimed_user
from services.connection.registry import Socket
from switchboard import events
from switchboard.errors import Forbidden, RateLimited
from switchboard.nats import encode

MAX_TEXT = 10_000
MAX_SYNC = 200


def _identity(sock: Socket) -> Any:
    assert sock.identity is not None
    return sock.identity


def take_send_token(sock: Socket, rate: float, burst: int) -> None:
    """Token bucket per socket: a runaway client is told ``RATE_LIMITED`` instead of flooding a session."""
    now = time.monotonic()
    full = sock.send_tokens < 0
    tokens = float(burst) if full else min(float(burst), sock.send_tokens + (now - sock.send_refilled) * rate)
    sock.send_refilled = now
    if tokens < 1:
        sock.send_tokens = tokens
        raise RateLimited(f"more than {rate:g} messages per second; slow down")
    sock.send_tokens = tokens - 1


def bind_chat(edge: Edge) -> None:
    sio, registry, messaging = edge.sio, edge.registry, edge.messaging

    async def open_session(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        identity = _identity(sock)
        if identity.role != "user":
            raise Forbidden("only customers (role user) open sessions; agents join them")
        reply = await messaging.OpenSession(messaging_pb2.OpenSessionRequest(user_id=identity.user_id))
        return {"success": True, "session_id": reply.session.session_id, "session": events.session(reply.session)}

    async def join_session(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        identity = _identity(sock)
        if identity.role not in ("agent", "admin"):
            raise Forbidden("only agents join sessions")
        session_id = v.string(data, "session_id")
        reply = await messaging.AssignAgent(
            messaging_pb2.AssignAgentRequest(session_id=session_id, agent_id=identity.user_id))
        return {"success": True, "session_id": session_id, "session": events.session(reply.session)}

    async def send_message(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        identity = _identity(sock)
        check_claimed_user(data, identity, "from_user_id", "user_id")
        if data.get("token") and edge.verifier.verify(data["token"]) != identity:
            raise Forbidden("token does not match the registered identity")
        role = v.string(data, "role", required=False, max_len=16) or identity.role
        if role != identity.role:
            raise Forbidden(f"role {role!r} does not match the token's role {identity.role!r}")
        request = messaging_pb2.SendMessageRequest(
            sender_id=identity.user_id, sender_role=identity.role,
            session_id=v.string(data, "session_id"),
            text=v.string(data, "message", max_len=MAX_TEXT),
            message_type=v.string(data, "message_type", required=False, max_len=32, default="text"),
            reply_to_message_id=v.integer(data, "reply_to_message_id", required=False, minimum=1),
            client_msg_id=v.string(data, "client_msg_id", required=False, max_len=64),
            origin_connection_id=sock.connection_id,
        )
        take_send_token(sock, edge.settings.send_rate_per_second, edge.settings.send_burst)
        reply = await edge.upstream.send_message(request)
        msg = reply.message
        return {"success": True, "message_id": msg.id, "sequence_number": msg.sequence_number,
                "time": events.display_time(msg.time), "timestamp": msg.time, "session_id": msg.session_id,
                "client_msg_id": msg.client_msg_id or None, "duplicate": reply.duplicate}

    async def mark(sock: Socket, data: dict[str, Any], read: bool) -> dict[str, Any]:
        identity = _identity(sock)
        check_claimed_user(data, identity, "user_id")
        if read and "up_to_sequence" in data:
            reply = await messaging.MarkReadUpTo(messaging_pb2.MarkReadUpToRequest(
                user_id=identity.user_id, session_id=v.string(data, "session_id"),
                sequence_number=v.integer(data, "up_to_sequence", minimum=1)))
        else:
            ids = v.integers(data, "message_ids") if "message_ids" in data else [
                v.integer(data, "message_id", minimum=1)]
            request = messaging_pb2.MarkMessagesRequest(user_id=identity.user_id, message_ids=ids)
            reply = await (messaging.MarkRead(request) if read else edge.upstream.mark_delivered(request))
        return {"success": True, "updated": len(reply.changes)}

    async def message_delivered(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        return await mark(sock, data, read=False)

    async def message_read(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        return await mark(sock, data, read=True)

    async def sync(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        identity = _identity(sock)
        page = await messaging.SyncHistory(messaging_pb2.SyncHistoryRequest(
            user_id=identity.user_id, session_id=v.string(data, "session_id"),
            after_sequence=v.integer(data, "after_sequence", required=False),
            limit=v.integer(data, "limit", required=False, minimum=1, maximum=MAX_SYNC, default=50)))
        return {"success": True, "messages": [events.new_message(m) for m in page.messages],
                "has_more": page.has_more}

    async def typing(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        identity = _identity(sock)
        session_id = v.string(data, "session_id")
        is_typing = v.boolean(data, "is_typing", default=True)
        session = (await messaging.GetSession(messaging_pb2.GetSessionRequest(session_id=session_id))).session
        participants = {session.user_id, session.agent_id} - {0}
        if identity.user_id not in participants:
            raise Forbidden("not a participant of this session")
        payload = {"session_id": session_id, "user_id": identity.user_id, "is_typing": is_typing}
        for other in participants - {identity.user_id}:
            await edge.nc.publish(edge.subjects.user(other), encode("typing", payload))
        return {"success": True}

    for name, handler in (
        ("open_session", open_session), ("join_session", join_session), ("send_message", send_message),
        ("message_delivered", message_delivered), ("message_read", message_read), ("sync", sync),
        ("typing", typing),
    ):
        bind(sio, registry, name, handler)
