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
from services.messaging.sessions import (
    RoleOf,
    assign_agent,
    close_session,
    list_filter,
    queue_change,
    transfer_session,
)
from services.messaging.settings import Settings
from services.messaging.store import SessionRow, StatusChangeRow, Store
from services.messaging.writer import SYSTEM, Outgoing, Stored
from switchboard.contract import RPCS
from switchboard.errors import InvalidArgument, NotFound, SwitchboardError

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Parsed = TypeVar("Parsed")
Done = TypeVar("Done")

SEND, SYSTEM_SEND, SYNC = RPCS["SendMessage"], RPCS["SendSystemMessage"], RPCS["SyncHistory"]
RECEIPT, READ_UP_TO = RPCS["MarkRead"], RPCS["MarkReadUpTo"]


def _participant(session: SessionRow | None, session_id: str, user_id: int) -> SessionRow:
    """A session the user takes part in. "Not yours" and "does not exist" get the same answer, so ids cannot be
    probed."""
    if session is None or user_id not in session.participants:
        raise NotFound(f"session {session_id} not found")
    return session


def _mark_response(changes: Sequence[StatusChangeRow]) -> messaging_pb2.MarkResponse:
    return messaging_pb2.MarkResponse(changes=[status_change_proto(c) for c in changes])


class MessagingServicer(messaging_pb2_grpc.MessagingServiceServicer):
    def __init__(self, store: Store, sending: Sending, publisher: Publisher, receipts: Receipts,
                 settings: Settings, role_of: RoleOf) -> None:
        self._store, self._sending, self._publisher, self._receipts = store, sending, publisher, receipts
        self._settings, self._role_of = settings, role_of

    # --- sessions ---------------------------------------------------------------------------------------------

    async def OpenSession(self, request: messaging_pb2.OpenSessionRequest,
                          context: grpc.aio.ServicerContext) -> messaging_pb2.SessionResponse:
        (user_id,) = RPCS["OpenSession"].check(request).values()
        session, created = await self._store.open_session(user_id)
        if created:
            log.info("session opened", extra={"session_id": session.session_id, "user_id": session.user_id})
        await self._queue_changed(None if created else session, session)
        return messaging_pb2.SessionResponse(session=session_proto(session))

    async def AssignAgent(self, request: messaging_pb2.AssignAgentRequest,
                          context: grpc.aio.ServicerContext) -> messaging_pb2.SessionResponse:
        session_id, agent_id, take_over = RPCS["AssignAgent"].check(request).values()
        before, session = await assign_agent(self._store, session_id, agent_id, take_over)
        await self._agent_changed(before, session, "taken_over" if before.agent_id else "agent_joined")
        return messaging_pb2.SessionResponse(session=session_proto(session))

    async def TransferSession(self, request: messaging_pb2.TransferSessionRequest,
                              context: grpc.aio.ServicerContext) -> messaging_pb2.SessionResponse:
        session_id, actor_id, actor_role, agent_id = RPCS["TransferSession"].check(request).values()
        before, session = await transfer_session(self._store, session_id, actor_id, actor_role, agent_id,
                                                 self._role_of)
        await self._agent_changed(before, session, "transferred", by=actor_id)
        return messaging_pb2.SessionResponse(session=session_proto(session))

    async def _agent_changed(self, before: SessionRow, session: SessionRow, reason: str, by: int = 0) -> None:
        """A session changed hands: its participants hear it, and so does the agent it left (the session left
        that agent's list). Nothing is announced when the agent stayed the same."""
        if before.agent_id == session.agent_id:
            return
        await self._queue_changed(before, session)
        log.info("session agent changed", extra={"session_id": session.session_id, "reason": reason,
                                                 "from_agent_id": before.agent_id, "agent_id": session.agent_id,
                                                 "by": by})
        await self._publisher.session_updated(session, reason, also=(before.agent_id or 0,))

    async def CloseSession(self, request: messaging_pb2.CloseSessionRequest,
                           context: grpc.aio.ServicerContext) -> messaging_pb2.SessionResponse:
        session_id, actor_id, actor_role = RPCS["CloseSession"].check(request).values()
        before, session = await close_session(self._store, session_id, actor_id, actor_role)
        if before.status != session.status:
            log.info("session closed", extra={"session_id": session_id, "by": actor_id})
            await self._publisher.session_updated(session, "closed")
            await self._queue_changed(before, session)
        return messaging_pb2.SessionResponse(session=session_proto(session))

    async def _queue_changed(self, before: SessionRow | None, session: SessionRow) -> None:
        """Agents and admins hear when a session enters or leaves the waiting queue (:func:`queue_change`)."""
        if reason := queue_change(before, session):
            await self._publisher.queue_updated(session, reason)

    async def ListSessions(self, request: messaging_pb2.ListSessionsRequest,
                           context: grpc.aio.ServicerContext) -> messaging_pb2.SessionsPage:
        """A page in creation order; ``next_cursor`` is the last session's position (pass it back as
        ``after``)."""
        actor_id, actor_role, scope, status, after, limit = RPCS["ListSessions"].check(request).values()
        column, owner, status = list_filter(actor_id, actor_role, scope, status)
        rows = await self._store.list_sessions(column, owner, status, after, limit + 1)
        page = rows[:limit]
        return messaging_pb2.SessionsPage(sessions=[session_proto(r) for r in page], has_more=len(rows) > limit,
                                          next_cursor=page[-1].id if page else after)

    async def GetSession(self, request: messaging_pb2.GetSessionRequest,
                         context: grpc.aio.ServicerContext) -> messaging_pb2.SessionResponse:
        session = await self._store.get_session(RPCS["GetSession"].check(request)["session_id"])
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
        fields = SYSTEM_SEND.check(request)
        session_id = fields["session_id"]
        if not session_id and fields["user_id"]:
            session = await self._store.latest_open_session(fields["user_id"])
            if session is None:
                raise NotFound(f"user {fields['user_id']} has no open session")
            session_id = session.session_id
        elif not session_id:
            raise InvalidArgument("session_id or user_id is required")
        outgoing = Outgoing(
            session_id=session_id, sender_id=0, sender_role=SYSTEM, text=fields["text"],
            message_type=fields["message_type"], reply_to_message_id=None,
            client_msg_id=fields["idempotency_key"] or None,
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
        user_id, ids = RECEIPT.check(request).values()
        return _mark_response(await self._receipts.read(user_id, ids))

    async def MarkReadUpTo(self, request: messaging_pb2.MarkReadUpToRequest,
                           context: grpc.aio.ServicerContext) -> messaging_pb2.MarkResponse:
        user_id, session_id, sequence_number = READ_UP_TO.check(request).values()
        changes = await self._receipts.read_up_to(user_id, session_id, sequence_number)
        return _mark_response(changes)

    # --- reading ----------------------------------------------------------------------------------------------

    async def SyncHistory(self, request: messaging_pb2.SyncHistoryRequest,
                          context: grpc.aio.ServicerContext) -> messaging_pb2.MessagesPage:
        """Messages after ``after_sequence`` in sequence order; ``next_cursor`` is the last sequence returned."""
        user_id, session_id, after_sequence, limit = SYNC.check(request).values()
        _participant(await self._store.get_session(session_id), session_id, user_id)
        rows = await self._store.history(session_id, after_sequence, limit + 1)
        page = rows[:limit]
        return messaging_pb2.MessagesPage(
            messages=[message_proto(m) for m in page], has_more=len(rows) > limit,
            next_cursor=page[-1].sequence_number if page else request.after_sequence)

    async def FetchPending(self, request: messaging_pb2.FetchPendingRequest,
                           context: grpc.aio.ServicerContext) -> messaging_pb2.MessagesPage:
        """Undelivered messages of the user, per session in sequence order. The cursor is the position in
        ``offline_messages`` (its id): pass ``next_cursor`` back as ``after_id``."""
        user_id, requested, after_id = RPCS["FetchPending"].check(request).values()
        limit = min(requested or self._settings.fetch_max_limit, self._settings.fetch_max_limit)
        rows = await self._store.pending(user_id, after_id, limit + 1)
        page = rows[:limit]
        return messaging_pb2.MessagesPage(
            messages=[message_proto(p.message) for p in page], has_more=len(rows) > limit,
            next_cursor=page[-1].offline_id if page else request.after_id)


def _outgoing(request: messaging_pb2.SendMessageRequest) -> Outgoing:
    f = SEND.check(request)
    return Outgoing(
        session_id=f["session_id"], sender_id=f["sender_id"], sender_role=f["sender_role"], text=f["text"],
        message_type=f["message_type"], reply_to_message_id=f["reply_to_message_id"] or None,
        client_msg_id=f["client_msg_id"] or None,
    )


def _send_item(request: messaging_pb2.SendMessageRequest) -> Send:
    return _outgoing(request), request.origin_connection_id


def _delivered_receipt(request: messaging_pb2.MarkMessagesRequest) -> DeliveredReceipt:
    user_id, ids = RPCS["MarkDelivered"].check(request).values()
    return DeliveredReceipt(user_id, tuple(ids))


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
