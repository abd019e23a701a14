"""The edge's hot calls to messaging, coalesced: every ``send_message`` and ``message_delivered`` that arrives
while the previous batch is in flight goes in the next batch RPC. A unary gRPC call costs both processes more
CPU than the message it carries; under load a batch carries many.

One batch in flight per kind keeps a socket's pipelined sends in the order they arrived; messaging submits a
batch's items to its writer in order, so they get their sequence numbers in that order too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from protos import messaging_pb2, messaging_pb2_grpc
from switchboard.batching import Batcher
from switchboard.errors import ERRORS_BY_CODE, Internal, SwitchboardError


class _Result(Protocol):
    ok: Any
    error: messaging_pb2.Error

    def WhichOneof(self, group: str) -> str | None: ...


def _outcomes(results: Sequence[_Result], count: int) -> list:
    """Each batch item's reply, or its error as the same class the unary call would have raised."""
    if len(results) != count:
        return [Internal("messaging answered a batch with the wrong number of results")] * count
    return [r.ok if r.WhichOneof("result") == "ok"
            else ERRORS_BY_CODE.get(r.error.code, Internal)(r.error.message) for r in results]


class Upstream:
    def __init__(self, messaging: messaging_pb2_grpc.MessagingServiceStub, batch_max: int = 256) -> None:
        self._messaging = messaging
        self._sends: Batcher[messaging_pb2.SendMessageRequest, messaging_pb2.SendMessageResponse] = Batcher(
            "edge-sends", self._send_batch, workers=1, batch_max=batch_max)
        self._delivered: Batcher[messaging_pb2.MarkMessagesRequest, messaging_pb2.MarkResponse] = Batcher(
            "edge-delivered", self._delivered_batch, workers=1, batch_max=batch_max)

    def start(self) -> None:
        self._sends.start()
        self._delivered.start()

    async def stop(self) -> None:
        await self._sends.stop()
        await self._delivered.stop()

    async def send_message(self, request: messaging_pb2.SendMessageRequest) -> messaging_pb2.SendMessageResponse:
        return await self._sends.submit(request)

    async def mark_delivered(self, request: messaging_pb2.MarkMessagesRequest) -> messaging_pb2.MarkResponse:
        return await self._delivered.submit(request)

    async def _send_batch(self, requests: Sequence[messaging_pb2.SendMessageRequest]) -> list:
        try:
            reply = await self._messaging.SendMessageBatch(messaging_pb2.SendMessageBatchRequest(requests=requests))
        except SwitchboardError as exc:
            return [exc] * len(requests)
        return _outcomes(reply.results, len(requests))

    async def _delivered_batch(self, requests: Sequence[messaging_pb2.MarkMessagesRequest]) -> list:
        try:
            reply = await self._messaging.MarkDeliveredBatch(
                messaging_pb2.MarkMessagesBatchRequest(requests=requests))
        except SwitchboardError as exc:
            return [exc] * len(requests)
        return _outcomes(reply.results, len(requests))
