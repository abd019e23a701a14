"""The incoming path: every pushed or synced message is acknowledged (batched ``message_delivered``), deduped,
and passed to ``on_message`` in per-session order; a hole in a session's sequence is waited for briefly, then
filled with ``sync`` — or skipped, so one lost message never stalls a session.

The client's own messages advance the same ordering through :meth:`Incoming.own_sent`, because an ack can be
what releases messages held back behind it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from client.config import ClientConfig
from client.connection import Connection
from client.errors import (
    ClientClosedError,
    ConnectionLostError,
    NotConnectedError,
    RequestError,
    error_from_reply,
)
from client.rpc import Rpc, receipt_body
from client.runtime import Runtime
from client.tracker import Message, Received, SequenceTracker

log = logging.getLogger(__name__)


class Incoming:
    """Receipts, dedup, ordering and gap fill for one client."""

    def __init__(self, config: ClientConfig, runtime: Runtime, connection: Connection, rpc: Rpc,
                 tracker: SequenceTracker) -> None:
        self.config = config
        self._runtime = runtime
        self._connection = connection
        self._rpc = rpc
        self._tracker = tracker
        self._ack_ids: list[Any] = []
        self._ack_flush: asyncio.Task[None] | None = None
        self._gap_tasks: dict[str, asyncio.Task[None]] = {}

    def receive(self, data: Any) -> None:
        """Every ``new_message``, live, offline or from a gap-filling sync: acknowledge, dedup, order."""
        if not isinstance(data, dict):
            log.warning("ignoring malformed new_message: %r", data)
            return
        if (self.config.auto_ack_delivered and data.get("id") is not None
                and data.get("from_user_id") != self._connection.user_id):
            self._ack_later(data["id"])
        verdict = self._tracker.receive(data)
        log.debug("incoming message %s (session %s seq %s offline %s): pass on %d%s%s", data.get("id"),
                  data.get("session_id"), data.get("sequence_number"), data.get("offline"), len(verdict.deliver),
                  ", duplicate" if verdict.duplicate else "", ", gap" if verdict.gap else "")
        if verdict.duplicate:
            log.debug("duplicate message %s dropped", data.get("id"))
        self._apply(verdict, data.get("session_id"))

    def own_sent(self, session_id: str, message_id: Any, sequence_number: int | None) -> None:
        """Our own message was stored with ``sequence_number``: it takes its place in the session's order."""
        self._apply(self._tracker.own_sent(session_id, message_id, sequence_number), session_id)

    def resume_gap_fills(self) -> None:
        """After a reconnect: fill the holes that were still open when the previous link dropped."""
        for session_id in self._tracker.gaps():
            self._schedule_gap_fill(session_id)

    def _apply(self, verdict: Received, session_id: str) -> None:
        self._deliver(verdict.deliver)
        if verdict.gap:
            self._schedule_gap_fill(session_id)

    def _deliver(self, messages: list[Message]) -> None:
        for msg in messages:
            self._runtime.emit("message", msg)

    def _ack_later(self, message_id: Any) -> None:
        """Batch delivered receipts: after a reconnect the offline push brings many messages at once."""
        self._ack_ids.append(message_id)
        if self._ack_flush is None or self._ack_flush.done():
            self._ack_flush = self._runtime.spawn(self._flush_acks())

    async def _flush_acks(self) -> None:
        await asyncio.sleep(0)  # let the messages that arrived in the same burst join the batch
        while self._ack_ids:
            ids, self._ack_ids = list(dict.fromkeys(self._ack_ids)), []
            try:
                # Offline pushes can arrive before the register ack: wait for the link to be in place.
                link = await self._connection.wait_link(self.config.request_timeout)
            except (NotConnectedError, ClientClosedError):
                # The server pushes unacknowledged messages again at the next register; we ack them then.
                self._ack_ids.clear()
                return
            try:
                body = receipt_body(ids[0] if len(ids) == 1 else None, ids if len(ids) > 1 else None,
                                    self._connection.user_id)
                reply = await link.call("message_delivered", body, self.config.request_timeout)
                if isinstance(reply, dict) and not reply.get("success"):
                    log.warning("delivered receipt for %s refused: %s", ids, error_from_reply(reply))
            except (TimeoutError, ConnectionLostError) as exc:
                log.info("delivered receipt for %d message(s) not acknowledged: %s", len(ids), exc)

    def _schedule_gap_fill(self, session_id: str) -> None:
        if session_id not in self._gap_tasks and not self._connection.closing:
            self._gap_tasks[session_id] = self._runtime.spawn(self._fill_gap(session_id))

    async def _fill_gap(self, session_id: str) -> None:
        """Wait briefly for the missing push, then sync from the watermark until the hole closes. A hole the
        server cannot fill either is skipped (logged), so one lost message never stalls a session."""
        try:
            await asyncio.sleep(self.config.gap_timeout)
            while self._tracker.has_gap(session_id) and not self._connection.closing:
                after = self._tracker.last(session_id)
                log.info("sequence gap in %s after %s: syncing", session_id, after)
                try:
                    reply = await self._rpc.sync(session_id, after, self.config.sync_limit)
                except (NotConnectedError, TimeoutError) as exc:
                    log.info("gap fill in %s waits for the connection: %s", session_id, exc)
                    await self._connection.reconnected()
                    continue
                except RequestError as exc:
                    log.warning("sync of %s refused (%s); passing held messages on", session_id, exc)
                    self._deliver(self._tracker.release(session_id))
                    return
                for msg in reply.get("messages") or []:
                    self.receive(msg)
                if self._tracker.last(session_id) == after and self._tracker.has_gap(session_id):
                    log.warning("sync could not fill the gap in %s after %s; skipping it", session_id, after)
                    self._deliver(self._tracker.release(session_id))
        finally:
            self._gap_tasks.pop(session_id, None)
