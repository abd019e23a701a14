"""``switchboard.messaging.v1.MessagingService``: request validation and proto mapping around the writer,
the receipts and the store. Errors are raised as :mod:`switchboard.errors` classes; the shared interceptor
turns them into gRPC statuses with the stable code in trailing metadata."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import grpc

from protos import messaging_pb2, messaging_pb2_grpc
from services.messaging.mapping import message_proto, session_proto, status_change_proto
from services.messaging.publisher import Publisher
from services.messaging.receipts import DeliveredReceipt, Receipts
from services.messaging.sending import Send, Sending
from services.messaging.sessions import assign_agent
from services.messaging.settings import Settings
from services.messaging.store import SessionRow, StatusChangeRow, Store
from services.messaging.writer import SYSTEM, Outgoing, Stored
from switchboard.errors import Forbidden, InvalidArgument, NotFound, SwitchboardError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Parsed = TypeVar("Parsed")
Done = TypeVar("Done")

# What a message may be; the client renders by type, the text carries the content (or its URL / JSON card).
MESSAGE_TYPES = frozenset({"text", "image", "file", "audio", "video", "card"})
SENDER_ROLES = frozenset({"user", "agent"})
MAX_TEXT_CHARS = 10_000
MAX_CLIENT_MSG_ID_CHARS = 64
MAX_SESSION_ID_CHARS = 255
MAX_RECEIPT_IDS = 500
HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200


def _positive(value: int, name: str) -> int:
    if value <= 0:
        raise InvalidArgument(f"{name} must be a positive id")
    return value


def _session_id(value: str) -> str:
    if not value or len(value) > MAX_SESSION_ID_CHARS:
        raise InvalidArgument("session_id is required")
    return value


def _content(text: str, message_type: str) -> tuple[str, str]:
    if not text.strip():
        raise InvalidArgument("text must not be empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidArgument(f"text is longer than {MAX_TEXT_CHARS} characters")
    message_type = message_type or "text"
    if message_type not in MESSAGE_TYPES:
        raise InvalidArgument(f"message_type must be one of {', '.join(sorted(MESSAGE_TYPES))}")
    return text, message_type


def _client_msg_id(value: str, name: str) -> str | None:
    if len(value) > MAX_CLIENT_MSG_ID_CHARS:
        raise InvalidArgument(f"{name} is longer than {MAX_CLIENT_MSG_ID_CHARS} characters")
    return value or None


def _message_ids(ids: Sequence[int]) -> list[int]:
    if len(ids) > MAX_RECEIPT_IDS:
        raise InvalidArgument(f"at most {MAX_RECEIPT_IDS} message_ids per call")
    for message_id in ids:
        _positive(message_id, "message_ids")
    return list(ids)


def _limit(requested: int, default: int, maximum: int) -> int:
    """0 asks for the default; more than the maximum gets the maximum (``has_more`` says there is more)."""
    if requested < 0:
        raise InvalidArgument("limit must not be negative")
    return min(requested or default, maximum)


def _participant(session: SessionRow | None, session_id: str, user_id: int) -> SessionRow:
    if session is None:
        raise NotFound(f"session {session_id} not found")
    if user_id not in session.participants:
        raise Forbidden(f"user {user_id} does not take part in session {session_id}")
    return session


def _mark_response(changes: Sequence[StatusChangeRow]) -> messaging_pb2.MarkResponse:
    return messaging_pb2.MarkResponse(changes=[status_change_proto(c) for c in changes])


class MessagingServicer(messaging_pb2_grpc.MessagingServiceServicer):
    def __init__(self, store: Store, sending: Sending, publisher: Publisher, receipts: Receipts,
                 settings: Settings) -> None:
        self._store, self._sending, self._publisher, self._receipts = store, sending, publisher, receipts
        self._settings = settings

    # --- sessions ---------------------------------------------------------------------------------------------

    async def OpenSession(self, request: messaging_pb2.OpenSessionRequest,
                          context: grpc.aio.ServicerContext) -> messaging_pb2.SessionResponse:
        session = await self._store.create_session(_positive(request.user_id, "user_id"))
        log.info("session opened", extra={"session_id": session.session_id, "user_id": session.user_id})
        return messaging_pb2.SessionResponse(session=session_proto(session))

    async def AssignAgent(self, request: messaging_pb2.AssignAgentRequest,
                          context: grpc.aio.ServicerContext) -> messaging_pb2.SessionResponse:
        session, changed = await assign_agent(
            self._store, _session_id(request.session_id), _positive(request.agent_id, "agent_id"))
        if changed:
            log.info("agent assigned", extra={"session_id": session.session_id, "agent_id": session.agent_id})
            await self._publisher.session_updated(session, reason="agent_joined")
        return messaging_pb2.SessionResponse(session=session_proto(session))

    async def GetSession(self, request: messaging_pb2.GetSessionRequest,
                         context: grpc.aio.ServicerContext) -> messaging_pb2.SessionResponse:
        session = await self._store.get_session(_session_id(request.session_id))
        if session is None:
            raise NotFound(f"session {request.session_id} not found")
        return messaging_pb2.SessionResponse(session=session_proto(session))

    # --- sending ----------------------------------------------------------------------------------------------

    async def SendMessage(self, request: messaging_pb2.SendMessageRequest,
                          context: grpc.aio.ServicerContext) -> messaging_pb2.SendMessageResponse:
        return await self._send(_outgoing(request), request.origin_connection_id)

    async def SendMessageBatch(self, request: messaging_pb2.SendMessageBatchRequest,
                               context: grpc.aio.ServicerContext) -> messaging_pb2.SendMessageBatchResponse:
        """The batch goes to the writer in order (so it keeps its order and shares the writer's next
        transactions) and its messages are published together; one bad item fails alone."""
        outcomes = await _each(request.requests, _send_item, self._sending.send)
        return messaging_pb2.SendMessageBatchResponse(results=[
            messaging_pb2.SendMessageResult(error=_error(o)) if isinstance(o, SwitchboardError)
            else messaging_pb2.SendMessageResult(ok=_send_response(o)) for o in outcomes])

    async def SendSystemMessage(self, request: messaging_pb2.SendSystemMessageRequest,
                                context: grpc.aio.ServicerContext) -> messaging_pb2.SendMessageResponse:
        text, message_type = _content(request.text, request.message_type)
        if request.session_id:
            session_id = _session_id(request.session_id)
        elif request.user_id > 0:
            session = await self._store.latest_open_session(request.user_id)
            if session is None:
                raise NotFound(f"user {request.user_id} has no open session")
            session_id = session.session_id
        else:
            raise InvalidArgument("session_id or user_id is required")
        outgoing = Outgoing(
            session_id=session_id, sender_id=0, sender_role=SYSTEM, text=text, message_type=message_type,
            reply_to_message_id=None, client_msg_id=_client_msg_id(request.idempotency_key, "idempotency_key"),
        )
        return await self._send(outgoing, "")

    async def _send(self, outgoing: Outgoing, origin_connection_id: str) -> messaging_pb2.SendMessageResponse:
        """Store (batched), then publish to the participants before answering: when the sender gets its ack,
        the message is committed and either in the users' JetStream inboxes or queued for retry."""
        (outcome,) = await self._sending.send([(outgoing, origin_connection_id)])
        if isinstance(outcome, SwitchboardError):
            raise outcome
        return _send_response(outcome)

    # --- receipts ---------------------------------------------------------------------------------------------

    async def MarkDelivered(self, request: messaging_pb2.MarkMessagesRequest,
                            context: grpc.aio.ServicerContext) -> messaging_pb2.MarkResponse:
        return await self._mark_delivered(request)

    async def MarkDeliveredBatch(self, request: messaging_pb2.MarkMessagesBatchRequest,
                                 context: grpc.aio.ServicerContext) -> messaging_pb2.MarkMessagesBatchResponse:
        outcomes = await _each(request.requests, _delivered_receipt, self._receipts.delivered_many)
        return messaging_pb2.MarkMessagesBatchResponse(results=[
            messaging_pb2.MarkResult(error=_error(o)) if isinstance(o, SwitchboardError)
            else messaging_pb2.MarkResult(ok=_mark_response(o)) for o in outcomes])

    async def _mark_delivered(self, request: messaging_pb2.MarkMessagesRequest) -> messaging_pb2.MarkResponse:
        receipt = _delivered_receipt(request)
        return _mark_response(await self._receipts.delivered(receipt.user_id, receipt.message_ids))

    async def MarkRead(self, request: messaging_pb2.MarkMessagesRequest,
                       context: grpc.aio.ServicerContext) -> messaging_pb2.MarkResponse:
        user_id, ids = _positive(request.user_id, "user_id"), _message_ids(request.message_ids)
        return _mark_response(await self._receipts.read(user_id, ids))

    async def MarkReadUpTo(self, request: messaging_pb2.MarkReadUpToRequest,
                           context: grpc.aio.ServicerContext) -> messaging_pb2.MarkResponse:
        user_id = _positive(request.user_id, "user_id")
        if request.sequence_number < 0:
            raise InvalidArgument("sequence_number must not be negative")
        changes = await self._receipts.read_up_to(user_id, _session_id(request.session_id), request.sequence_number)
        return _mark_response(changes)

    # --- reading ----------------------------------------------------------------------------------------------

    async def SyncHistory(self, request: messaging_pb2.SyncHistoryRequest,
                          context: grpc.aio.ServicerContext) -> messaging_pb2.MessagesPage:
        """Messages after ``after_sequence`` in sequence order; ``next_cursor`` is the last sequence returned."""
        user_id, session_id = _positive(request.user_id, "user_id"), _session_id(request.session_id)
        limit = _limit(request.limit, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT)
        _participant(await self._store.get_session(session_id), session_id, user_id)
        rows = await self._store.history(session_id, max(request.after_sequence, 0), limit + 1)
        page = rows[:limit]
        return messaging_pb2.MessagesPage(
            messages=[message_proto(m) for m in page], has_more=len(rows) > limit,
            next_cursor=page[-1].sequence_number if page else request.after_sequence)

    async def FetchPending(self, request: messaging_pb2.FetchPendingRequest,
                           context: grpc.aio.ServicerContext) -> messaging_pb2.MessagesPage:
        """Undelivered messages of the user, per session in sequence order. The cursor is the position in
        ``offline_messages`` (its id): pass ``next_cursor`` back as ``after_id``."""
        user_id = _positive(request.user_id, "user_id")
        limit = _limit(request.limit, self._settings.fetch_max_limit, self._settings.fetch_max_limit)
        rows = await self._store.pending(user_id, max(request.after_id, 0), limit + 1)
        page = rows[:limit]
        return messaging_pb2.MessagesPage(
            messages=[message_proto(p.message) for p in page], has_more=len(rows) > limit,
            next_cursor=page[-1].offline_id if page else request.after_id)


def _outgoing(request: messaging_pb2.SendMessageRequest) -> Outgoing:
    if request.sender_role not in SENDER_ROLES:
        raise InvalidArgument("sender_role must be user or agent")
    if request.reply_to_message_id < 0:
        raise InvalidArgument("reply_to_message_id must not be negative")
    text, message_type = _content(request.text, request.message_type)
    return Outgoing(
        session_id=_session_id(request.session_id), sender_id=_positive(request.sender_id, "sender_id"),
        sender_role=request.sender_role, text=text, message_type=message_type,
        reply_to_message_id=request.reply_to_message_id or None,
        client_msg_id=_client_msg_id(request.client_msg_id, "client_msg_id"),
    )


def _send_item(request: messaging_pb2.SendMessageRequest) -> Send:
    return _outgoing(request), request.origin_connection_id


def _delivered_receipt(request: messaging_pb2.MarkMessagesRequest) -> DeliveredReceipt:
    return DeliveredReceipt(_positive(request.user_id, "user_id"), tuple(_message_ids(request.message_ids)))


async def _each(items: Sequence[Item], parse: Callable[[Item], Parsed],
                run_many: Callable[[list[Parsed]], Awaitable[list[Done | SwitchboardError]]],
                ) -> list[Done | SwitchboardError]:
    """A batch RPC's items: each parsed (an invalid one fails alone), the valid ones run together in order;
    one outcome per item, in the items' order."""
    outcomes: list[Done | SwitchboardError | None] = [None] * len(items)
    valid: list[tuple[int, Parsed]] = []
    for i, item in enumerate(items):
        try:
            valid.append((i, parse(item)))
        except SwitchboardError as exc:
            outcomes[i] = exc
    for (i, _), outcome in zip(valid, await run_many([p for _, p in valid]), strict=True):
        outcomes[i] = outcome
    return outcomes  # type: ignore[return-value]  # every slot is filled above


def _send_response(stored: Stored) -> messaging_pb2.SendMessageResponse:
    return messaging_pb2.SendMessageResponse(message=message_proto(stored.message), duplicate=stored.duplicate)


def _error(exc: SwitchboardError) -> messaging_pb2.Error:
    return messaging_pb2.Error(code=exc.code, message=exc.message)
