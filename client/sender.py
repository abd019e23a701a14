"""The sending path: messages go from the outbox to the server, per session one at a time and in order.

A message leaves the outbox only when the server acknowledged it or refused it for good; lost connections,
missing acks and transient refusals keep it queued and send it again with the same ``client_msg_id``, which
the server dedups.

A transient refusal (``UNAVAILABLE``, ``RATE_LIMITED``, ``INTERNAL``…) comes over a live link: the edge is up,
something behind it is not. Such retries do not use the reconnect backoff (which grows to a minute) but a
short :class:`~client.backoff.RetryDelay` (jittered, capped at ``max_send_retry_interval``, 2 s by default),
reset by the first sign that the backend is back — any message acknowledged, or a new link — which also lets
every waiting session go at once. So sessions resume within that cap of the backend's return.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from client.backoff import RetryDelay
from client.config import ClientConfig
from client.connection import Connection
from client.errors import ConnectionLostError, RequestError, SendFailedError, error_from_reply
from client.incoming import Incoming
from client.link import Link
from client.outbox import Outbox, OutboxEntry
from client.runtime import Runtime

log = logging.getLogger(__name__)


class Sender:
    """Pumps the outbox over the current link."""

    def __init__(self, config: ClientConfig, runtime: Runtime, connection: Connection, outbox: Outbox,
                 incoming: Incoming) -> None:
        self.config = config
        self._runtime = runtime
        self._connection = connection
        self._outbox = outbox
        self._incoming = incoming
        self._retry = RetryDelay(lambda: self.config.max_send_retry_interval)
        self._pump_timer: asyncio.TimerHandle | None = None

    def enqueue(self, session_id: str, message: str, role: str, message_type: str,
                reply_to_message_id: int | None, client_msg_id: str | None = None) -> OutboxEntry:
        """Thread-safe: any thread may queue. Persists before returning, then wakes the sender."""
        entry = self._outbox.add(OutboxEntry(
            client_msg_id=client_msg_id or str(uuid.uuid4()), session_id=session_id, message=message, role=role,
            message_type=message_type, reply_to_message_id=reply_to_message_id, user_id=self._connection.user_id))
        loop = self._connection.loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop is shutting down; the next connect() sends it
                loop.call_soon_threadsafe(self.pump)
        return entry

    def backend_back(self) -> None:
        """The backend answered (an ack) or a new link is up: retries start short again, and messages waiting
        out a refusal go now."""
        self._retry.reset()
        for entry in self._outbox.pending():
            entry.not_before = 0.0
        self.pump()

    def pump(self) -> None:
        """Start sending what may be sent: per session, only the oldest unacknowledged message is in flight,
        so a session's messages get their sequence numbers in send order; sessions proceed in parallel."""
        link = self._connection.link
        if link is None or not link.alive:
            return
        loop = self._connection.loop
        assert loop is not None
        now = loop.time()
        blocked: set[str] = set()
        wake_at: float | None = None
        for entry in self._outbox.pending():
            if entry.session_id in blocked:
                continue
            blocked.add(entry.session_id)
            if entry.in_flight:
                continue
            if entry.not_before > now:
                wake_at = entry.not_before if wake_at is None else min(wake_at, entry.not_before)
                continue
            entry.in_flight = True
            self._runtime.spawn(self._send_one(link, entry))
        if wake_at is not None:
            if self._pump_timer is not None:
                self._pump_timer.cancel()
            self._pump_timer = loop.call_at(wake_at, self.pump)

    async def _send_one(self, link: Link, entry: OutboxEntry) -> None:
        """One attempt. The entry stays ``in_flight`` until its outcome is recorded, so the pump cannot start
        a second copy meanwhile; every path ends by pumping again."""
        entry.attempts += 1
        try:
            reply = await link.call("send_message", entry.payload(), self.config.send_timeout)
        except ConnectionLostError:
            entry.in_flight = False  # stays queued; sent again after the reconnect
            return
        except TimeoutError:
            log.warning("no ack for message %s within %.1fs; probing the connection",
                        entry.client_msg_id, self.config.send_timeout)
            entry.in_flight = False
            await link.probe()  # dead → reconnect → resend; alive → resend now (same client_msg_id)
            self.pump()
            return
        except BaseException:
            entry.in_flight = False
            raise
        entry.in_flight = False
        if isinstance(reply, dict) and reply.get("success"):
            self._acked(entry, reply)
        else:
            self._refused(link, entry, error_from_reply(reply))
        self.pump()

    def _refused(self, link: Link, entry: OutboxEntry, err: RequestError) -> None:
        if err.code in self.config.permanent_error_codes:
            log.warning("message %s refused for good: %s", entry.client_msg_id, err)
            self._outbox.remove(entry.client_msg_id)
            if not entry.future.done():
                entry.future.set_exception(SendFailedError(entry.client_msg_id, err))
            self._runtime.emit("send_failed", entry.to_dict(), err)
        elif err.code in ("NOT_REGISTERED", "UNAUTHENTICATED"):
            log.warning("send refused with %s: registering again", err.code)
            link.drop(f"send_message refused: {err.code}")
        else:
            # UNAVAILABLE, RATE_LIMITED, INTERNAL…: keep it (and the session's later messages) queued.
            delay = self._retry.next_delay()
            log.info("message %s: %s; retrying in %.2fs", entry.client_msg_id, err, delay)
            assert self._connection.loop is not None
            entry.not_before = self._connection.loop.time() + delay

    def _acked(self, entry: OutboxEntry, reply: dict[str, Any]) -> None:
        self._outbox.remove(entry.client_msg_id)
        if self._retry.failures:
            self.backend_back()
        self._incoming.own_sent(entry.session_id, reply.get("message_id"), reply.get("sequence_number"))
        if not entry.future.done():
            entry.future.set_result(reply)
        self._runtime.emit("message_sent", entry.to_dict(), reply)
