"""Conversation events: sessions, messages, receipts, history and typing. The messaging service decides and
stores; these methods shape its answers into the socket.io contract. Payloads arrive parsed and the caller
authorized and rate-limited by the namespace's hook (services.connection.namespace)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from protos import devices_pb2, messaging_pb2
from services.connection.edge import check_claimed_user
from services.connection.registry import Socket
from switchboard import events
from switchboard.auth import Identity
from switchboard.errors import Forbidden, NotFound

if TYPE_CHECKING:
    from services.connection.edge import Edge

Reply = dict[str, Any]
def seat(identity: Identity) -> str:
    """The side of a session a role sits on: customers as ``user``; agents, and admins who took a session over,
    as ``agent``."""
    return "user" if identity.role == "user" else "agent"


def _identity(sock: Socket) -> Identity:
    assert sock.identity is not None  # the hook lets only registered sockets through
    return sock.identity


class ConversationEvents:
    edge: Edge

    async def on_open_session(self, sock: Socket, args: dict[str, Any]) -> Reply:
        reply = await self.edge.messaging.OpenSession(
            messaging_pb2.OpenSessionRequest(user_id=_identity(sock).user_id))
        return {"success": True, "session_id": reply.session.session_id, "session": events.session(reply.session)}

    async def on_join_session(self, sock: Socket, args: dict[str, Any]) -> Reply:
        identity = _identity(sock)
        reply = await self.edge.messaging.AssignAgent(messaging_pb2.AssignAgentRequest(
            session_id=args["session_id"], agent_id=identity.user_id, take_over=identity.role == "admin"))
        return {"success": True, "session_id": args["session_id"], "session": events.session(reply.session)}

    async def on_list_sessions(self, sock: Socket, args: dict[str, Any]) -> Reply:
        identity = _identity(sock)
        page = await self.edge.messaging.ListSessions(messaging_pb2.ListSessionsRequest(
            actor_id=identity.user_id, actor_role=identity.role, scope=args["scope"], status=args["status"],
            after=args["cursor"], limit=args["limit"]))
        return {"success": True, "sessions": [events.session(s) for s in page.sessions], "has_more": page.has_more,
                "next_cursor": page.next_cursor}

    async def on_transfer_session(self, sock: Socket, args: dict[str, Any]) -> Reply:
        identity = _identity(sock)
        reply = await self.edge.messaging.TransferSession(messaging_pb2.TransferSessionRequest(
            session_id=args["session_id"], actor_id=identity.user_id, actor_role=identity.role,
            agent_id=args["agent_id"]))
        return {"success": True, "session_id": args["session_id"], "session": events.session(reply.session)}

    async def on_close_session(self, sock: Socket, args: dict[str, Any]) -> Reply:
        identity = _identity(sock)
        reply = await self.edge.messaging.CloseSession(messaging_pb2.CloseSessionRequest(
            session_id=args["session_id"], actor_id=identity.user_id, actor_role=identity.role))
        return {"success": True, "session_id": args["session_id"], "session": events.session(reply.session)}

    async def on_send_message(self, sock: Socket, args: dict[str, Any]) -> Reply:
        identity = _identity(sock)
        check_claimed_user(args, identity, "from_user_id", "user_id")
        if args["token"] and self.edge.verifier.verify(args["token"]) != identity:
            raise Forbidden("token does not match the registered identity")
        if args["role"] and args["role"] not in (identity.role, seat(identity)):
            raise Forbidden(f"role {args['role']!r} does not match the token's role {identity.role!r}")
        reply = await self.edge.upstream.send_message(messaging_pb2.SendMessageRequest(
            sender_id=identity.user_id, sender_role=seat(identity), session_id=args["session_id"],
            text=args["message"], message_type=args["message_type"],
            reply_to_message_id=args["reply_to_message_id"], client_msg_id=args["client_msg_id"],
            origin_connection_id=sock.connection_id,
        ))
        msg = reply.message
        return {"success": True, "message_id": msg.id, "sequence_number": msg.sequence_number,
                "time": events.display_time(msg.time), "timestamp": msg.time, "session_id": msg.session_id,
                "client_msg_id": msg.client_msg_id or None, "duplicate": reply.duplicate}

    async def on_message_delivered(self, sock: Socket, args: dict[str, Any]) -> Reply:
        request = self._receipt(sock, args)
        return {"success": True, "updated": len((await self.edge.upstream.mark_delivered(request)).changes)}

    async def on_message_read(self, sock: Socket, args: dict[str, Any]) -> Reply:
        if "up_to_sequence" in args:
            check_claimed_user(args, _identity(sock), "user_id")
            reply = await self.edge.messaging.MarkReadUpTo(messaging_pb2.MarkReadUpToRequest(
                user_id=_identity(sock).user_id, session_id=args["session_id"],
                sequence_number=args["up_to_sequence"]))
        else:
            reply = await self.edge.messaging.MarkRead(self._receipt(sock, args))
        return {"success": True, "updated": len(reply.changes)}

    @staticmethod
    def _receipt(sock: Socket, args: dict[str, Any]) -> messaging_pb2.MarkMessagesRequest:
        identity = _identity(sock)
        check_claimed_user(args, identity, "user_id")
        ids = args["message_ids"] if "message_ids" in args else [args["message_id"]]
        return messaging_pb2.MarkMessagesRequest(user_id=identity.user_id, message_ids=ids)

    async def on_sync(self, sock: Socket, args: dict[str, Any]) -> Reply:
        page = await self.edge.messaging.SyncHistory(messaging_pb2.SyncHistoryRequest(
            user_id=_identity(sock).user_id, session_id=args["session_id"],
            after_sequence=args["after_sequence"], limit=args["limit"]))
        return {"success": True, "messages": [events.new_message(m) for m in page.messages],
                "has_more": page.has_more}

    async def on_session_presence(self, sock: Socket, args: dict[str, Any]) -> Reply:
        """Whether the session's other participant is online now. ``presence`` pushes tell only changes, so a
        page that loads (or reloads) asks here once, then follows the pushes."""
        identity, session_id = _identity(sock), args["session_id"]
        others = await self._others_in(identity, session_id)
        found = (await self.edge.devices.GetPresence(devices_pb2.GetPresenceRequest(user_ids=others))).users \
            if others else ()
        return {"success": True, "session_id": session_id,
                "participants": [{"user_id": u.user_id, "online": u.online, "last_seen": u.last_seen}
                                 for u in found]}

    async def on_typing(self, sock: Socket, args: dict[str, Any]) -> Reply:
        identity, session_id = _identity(sock), args["session_id"]
        others = await self._others_in(identity, session_id)
        self.edge.typing.note(sock, session_id, args["is_typing"], tuple(others))
        return {"success": True}

    async def _others_in(self, identity: Identity, session_id: str) -> list[int]:
        """The other participants of a session the caller sits in (by seat, not by number: a customer whose id
        equals the agent's is not the agent); anyone else is told it does not exist."""
        session = (await self.edge.messaging.GetSession(
            messaging_pb2.GetSessionRequest(session_id=session_id))).session
        if identity.user_id != (session.user_id if seat(identity) == "user" else session.agent_id):
            raise NotFound(f"session {session_id} not found")
        return sorted({session.user_id, session.agent_id} - {0, identity.user_id})
