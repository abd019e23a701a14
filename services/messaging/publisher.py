"""Events to the users' NATS subjects.

``new_message`` goes through JetStream (stream ``{PREFIX}_INBOX``) so it is kept for offline devices and so a
PubAck tells us it arrived; publishes run concurrently and their PubAcks are awaited together (a sequential
loop would be round-trip bound). ``Nats-Msg-Id`` = ``m<message id>u<user id>`` makes a retried publish a
no-op inside the stream's duplicate window. A publish that fails becomes a ``message_queue`` row for the retry
worker; the message itself is committed and in ``offline_messages``, so it is never lost.

Status, session and presence events are core-NATS publishes: their state lives in MySQL, a lost one is re-read.
So are the waiting queue's changes, on the one staff subject every edge relays to its agents and admins (a
console lists the queue at each connect, so a lost one lasts until then).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from nats.aio.client import Client
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from services.messaging import metrics
from services.messaging.mapping import message_proto, session_proto, status_change_proto
from services.messaging.settings import Settings
from services.messaging.store import MessageRow, SessionRow, StatusChangeRow, Store
from switchboard import events
from switchboard.nats import Subjects, encode

log = logging.getLogger(__name__)

DUPLICATE_WINDOW_SECONDS = 120.0

# ``(message, user ids, origin connection)``: one message to publish to those users; the sending socket's own
# copy is skipped by its edge.
Publish = tuple[MessageRow, Sequence[int], str]


def message_event(message: MessageRow, skip_connection: str | None = None) -> bytes:
    return encode("new_message", events.new_message(message_proto(message)), skip_connection=skip_connection)


class Publisher:
    def __init__(self, nc: Client, subjects: Subjects, store: Store, settings: Settings) -> None:
        self._nc, self._subjects, self._store, self._settings = nc, subjects, store, settings
        self._js = nc.jetstream(timeout=settings.publish_timeout_seconds)

    @property
    def connected(self) -> bool:
        return self._nc.is_connected

    async def ensure_stream(self) -> None:
        """Create the inbox stream, or bring an existing one to this configuration (replicas starting
        together may both try; creating an identical stream twice is not an error). Its replica count is
        ``SWITCHBOARD_NATS_REPLICAS``: raising it on a running cluster adds the copies at the next start; more
        than the cluster has servers is refused by JetStream, and the service does not start."""
        config = StreamConfig(
            name=self._subjects.inbox_stream,
            subjects=[self._subjects.inbox_subjects],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=float(self._settings.offline_retention_seconds),
            max_msgs_per_subject=self._settings.inbox_max_per_user,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            allow_direct=True,
            num_replicas=self._settings.nats_replicas,
        )
        try:
            await self._js.add_stream(config)
        except BadRequestError:  # exists with another configuration
            await self._js.update_stream(config)

    async def new_messages(self, items: Sequence[Publish]) -> None:
        """Publish each message to every recipient through JetStream, all at once, and wait for the PubAcks
        together (``publish_async``: no task or timer per publish); queue a retry for each publish that failed
        or timed out. While NATS is known to be down, nothing waits for a PubAck that cannot come: the publishes
        go to the retry queue at once, which is retried as soon as NATS is back. The sender's own copy, for its
        other devices, is a plain event: nothing tracks its delivery (it is the sender's message; those
        devices find it with ``sync``). Never raises: the messages are stored, the RPC succeeds whatever NATS
        does."""
        down = None if self.connected else ConnectionError("NATS is disconnected")
        pending: list[tuple[MessageRow, int, asyncio.Future[Any] | BaseException]] = []
        for message, user_ids, skip_connection in items:
            payload = message_event(message, skip_connection or None)
            for uid in user_ids:
                if uid == message.from_user_id:
                    await self._core(uid, payload)
                    continue
                ack: asyncio.Future[Any] | BaseException
                if down is not None:
                    ack = down
                else:
                    try:
                        ack = await self._js.publish_async(
                            self._subjects.user_inbox(uid), payload, headers=self._msg_id(message.id, uid))
                    except Exception as exc:
                        ack = exc
                pending.append((message, uid, ack))
        acks = [ack for _, _, ack in pending if isinstance(ack, asyncio.Future)]
        if acks:
            _, late = await asyncio.wait(acks, timeout=self._settings.publish_timeout_seconds)
            for ack in late:
                ack.cancel()
        failed: dict[int, tuple[MessageRow, list[int], set[str]]] = {}
        for message, uid, ack in pending:
            error = ack if isinstance(ack, BaseException) else (
                TimeoutError("no PubAck") if ack.cancelled() else ack.exception())
            if error is not None:
                entry = failed.setdefault(message.id, (message, [], set()))
                entry[1].append(uid)
                entry[2].add(repr(error))
        if failed:
            await self._queue_retries(list(failed.values()))

    async def _queue_retries(self, failed: list[tuple[MessageRow, list[int], set[str]]]) -> None:
        metrics.PUBLISH_FAILURES.labels("send").inc(sum(len(user_ids) for _, user_ids, _ in failed))
        log.warning("publish failed, queued for retry", extra={
            "message_ids": [m.id for m, _, _ in failed], "errors": sorted(set().union(*(e for _, _, e in failed)))})
        try:
            await self._store.enqueue_retries(
                [(m, user_ids) for m, user_ids, _ in failed], self._settings.retry_base_seconds,
                self._settings.retry_max)
        except Exception:
            log.exception("cannot queue a retry; the messages stay in offline_messages (delivery sweep)",
                          extra={"message_ids": [m.id for m, _, _ in failed]})

    async def republish(self, message: MessageRow, user_id: int) -> None:
        """One retried publish (from the retry worker); raises when it fails. The origin connection is not
        known any more, so the sender's own socket may see its message once more (clients dedup by id)."""
        await self._publish(message.id, user_id, message_event(message))

    async def _publish(self, message_id: int, user_id: int, payload: bytes) -> None:
        await self._js.publish(
            self._subjects.user_inbox(user_id), payload, timeout=self._settings.publish_timeout_seconds,
            headers=self._msg_id(message_id, user_id))

    @staticmethod
    def _msg_id(message_id: int, user_id: int) -> dict[str, str]:
        """JetStream drops a second publish with the same id inside the duplicate window (a retried publish)."""
        return {"Nats-Msg-Id": f"m{message_id}u{user_id}"}

    async def status_changes(self, changes: Iterable[StatusChangeRow]) -> None:
        """``message_status`` to each message's sender (every device of it). System messages have no sender."""
        for change in changes:
            if change.sender_id:
                await self._core(change.sender_id,
                                 encode("message_status", events.message_status(status_change_proto(change))))

    async def session_updated(self, session: SessionRow, reason: str, also: tuple[int, ...] = ()) -> None:
        """To the participants and to ``also`` (users who just stopped being one; 0 is nobody)."""
        payload = encode("session_updated", events.session(session_proto(session), reason=reason))
        for uid in dict.fromkeys((*session.participants, *also)):
            if uid:
                await self._core(uid, payload)

    async def presence(self, user_id: int, data: dict[str, Any]) -> None:
        """A session counterpart's ``presence`` (forwarded from the devices service's transitions)."""
        await self._core(user_id, encode("presence", data))

    async def queue_updated(self, session: SessionRow, reason: str) -> None:
        """``queue_updated`` to every agent and admin: the session entered or left the waiting queue."""
        await self._event(self._subjects.staff,
                          encode("queue_updated", events.queue_entry(session_proto(session), reason)))

    async def _core(self, user_id: int, payload: bytes) -> None:
        await self._event(self._subjects.user(user_id), payload)

    async def _event(self, subject: str, payload: bytes) -> None:
        try:
            await self._nc.publish(subject, payload)
        except Exception as exc:  # the database holds the state; a lost event is not worth failing the RPC
            log.warning("event publish failed", extra={"subject": subject, "error": repr(exc)})
