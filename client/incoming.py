"""The incoming path: every pushed or synced message is deduped and passed to ``on_message`` in per-session
order; a hole in a session's sequence is waited for briefly, then filled with ``sync`` — or skipped, so one
lost message never stalls a session.

"Delivered" means shown: a message's ``message_delivered`` receipt (batched, retried: :mod:`client.receipts`)
is due once the app's ``on_message`` callbacks for it have returned — on the callback thread or loop task,
whichever face — and only then is it recorded as shown (:mod:`client.memory`). A held-back message is
neither until it is passed on. A callback that raises still counts as having shown the message: the error is
logged, and withholding the receipt would only make the server push it again to a client that will not pass
it on twice. A repeat of a message shown before is acknowledged again (after the callbacks queued before it).

The client's own messages advance the same ordering through :meth:`Incoming.own_sent`, because an ack can be
what releases messages held back behind it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from client.config import ClientConfig
from client.connection import Connection
from client.errors import ClientClosedError, NotConnectedError, RequestError
from client.memory import DisplayMemory
from client.receipts import DeliveredReceipts
from client.rpc import Rpc
from client.runtime import Runtime
from client.tracker import Message, Received, SequenceTracker

log = logging.getLogger(__name__)


class Incoming:
    """Receipts, dedup, ordering and gap fill for one client."""

    def __init__(self, config: ClientConfig, runtime: Runtime, connection: Connection, rpc: Rpc,
                 tracker: SequenceTracker, memory: DisplayMemory) -> None:
        self.config = config
        self._runtime = runtime
        self._connection = connection
        self._rpc = rpc
        self._tracker = tracker
        self._memory = memory
        self.receipts = DeliveredReceipts(config, runtime, connection, before_send=memory.flush)
        self._gap_tasks: dict[str, asyncio.Task[None]] = {}
        self._catch_up_task: asyncio.Task[None] | None = None

    def receive(self, data: Any) -> None:
        """Every ``new_message``, live, offline or from a gap-filling sync: dedup, order, pass on."""
        if not isinstance(data, dict):
            log.warning("ignoring malformed new_message: %r", data)
            return
        verdict = self._tracker.receive(data)
        log.debug("incoming message %s (session %s seq %s offline %s): pass on %d%s%s", data.get("id"),
                  data.get("session_id"), data.get("sequence_number"), data.get("offline"), len(verdict.deliver),
                  ", duplicate" if verdict.duplicate else "", ", gap" if verdict.gap else "")
        if (verdict.duplicate and self._wants_receipt(data)
                and not self._tracker.waiting(data.get("session_id"), data.get("sequence_number"))):
            self._runtime.after_callbacks(functools.partial(self.receipts.add, data["id"]))
        self._apply(verdict, data.get("session_id"))

    def own_sent(self, session_id: str, message_id: Any, sequence_number: int | None) -> None:
        """Our own message was stored with ``sequence_number``: it takes its place in the session's order."""
        self._apply(self._tracker.own_sent(session_id, message_id, sequence_number), session_id)
        self._memory.record(message_id, session_id, self._tracker.last(session_id))

    def link_up(self) -> None:
        """After a (re)connect: send the receipts still pending, fill the holes left open by the last link, and
        catch up on every known session."""
        self.receipts.resume()
        for session_id in self._tracker.gaps():
            self._schedule_gap_fill(session_id)
        if self._catch_up_task is None or self._catch_up_task.done():
            self._catch_up_task = self._runtime.spawn(self._catch_up())

    async def _catch_up(self) -> None:
        """Sync each known session from its watermark. The server pushes again only what no device of this
        user acknowledged: messages another device of the user acknowledged while this one was away (and this
        user's own messages sent from another device) come back only this way — and when no later message
        arrives to reveal the gap, nothing else would bring a session's last messages. One session at a time,
        so a reconnect costs each session one ``sync``, not a burst."""
        for session_id in self._tracker.known():
            while not self._connection.closing:
                after = self._tracker.last(session_id)
                try:
                    reply = await self._rpc.sync(session_id, after, self.config.sync_limit)
                except (NotConnectedError, ClientClosedError, TimeoutError) as exc:
                    log.info("catch-up stopped, the next link starts it again: %s", exc)
                    return
                except RequestError as exc:
                    log.warning("catch-up of %s refused: %s", session_id, exc)
                    break
                for msg in reply.get("messages") or []:
                    self.receive(msg)
                if not reply.get("has_more") or self._tracker.last(session_id) == after:
                    break

    def _apply(self, verdict: Received, session_id: str | None) -> None:
        self._deliver(verdict.deliver)
        if verdict.gap and session_id:
            self._schedule_gap_fill(session_id)

    def _deliver(self, messages: list[Message]) -> None:
        for msg in messages:
            self._runtime.emit("message", msg)
        if messages:
            self._runtime.after_callbacks(functools.partial(self._shown, messages))

    def _shown(self, messages: list[Message]) -> None:
        """The app's callbacks for these messages returned: remember them, then acknowledge them."""
        for msg in messages:
            self._memory.record(msg.get("id"), msg.get("session_id"), msg.get("sequence_number"))
            if self._wants_receipt(msg):
                self.receipts.add(msg["id"])

    def _wants_receipt(self, msg: Message) -> bool:
        return (self.config.auto_ack_delivered and msg.get("id") is not None
                and msg.get("from_user_id") != self._connection.user_id)

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
