"""Learning of every stored message: a JetStream durable pull consumer on messaging's inbox stream.

Messaging publishes each stored message once per recipient to ``{prefix}.user.<id>.msg`` in the stream
``{PREFIX}_INBOX`` (limits retention, kept for the offline retention age). A durable consumer on it fits: it
needs nothing from messaging, survives a restart of this service (the server keeps its position), and a message
is acknowledged only after the push decision is committed to MySQL, so a SIGKILL between the two redelivers it
(and :meth:`PushStore.schedule` ignores what it already knows). A consumer never changes a limits stream's
retention, so messaging's own use of the stream is untouched. Created with ``DeliverPolicy.NEW``: a new
deployment does not wake every phone for a week of history.

The decision here is only *which devices*: those with a push token of a configured provider
(:func:`devices.pushable`), online or not. Whether the push goes out is decided when it is due, with the
presence of that moment (sender.py): a device with a live socket then is not woken."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, datetime

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

from protos import devices_pb2
from services.notifications import metrics
from services.notifications.devices import DeviceDirectory, pushable
from services.notifications.settings import Settings
from services.notifications.store import NewMessage, PushStore
from switchboard.nats import Subjects, decode
from switchboard.nats_auth import NOTIFICATIONS_CONSUMER
from switchboard.workers import Worker, reraise_if_cancelling

log = logging.getLogger(__name__)

# A batch's decision takes one devices call and one statement; a message not acknowledged by
# then (its process died) is delivered again, and scheduling it again changes nothing.
ACK_WAIT_SECONDS = 10.0
FETCH_WAIT_SECONDS = 1.0
RESUBSCRIBE_SECONDS = 1.0
REDELIVER_DELAY_SECONDS = 1.0


def _stored_at(timestamp: str) -> datetime:
    """The message's ISO 8601 instant, as the naive UTC value MySQL stores."""
    return datetime.fromisoformat(timestamp).astimezone(UTC).replace(tzinfo=None)


class Intake(Worker):
    name = "notifications-intake"

    def __init__(self, nc: Client, subjects: Subjects, store: PushStore, directory: DeviceDirectory,
                 providers: frozenset[str], settings: Settings) -> None:
        self._js: JetStreamContext = nc.jetstream()
        self._subjects, self._store, self._directory = subjects, store, directory
        self._providers, self._settings = providers, settings
        self.bound = False  # the consumer exists and is read (readiness)

    async def run(self) -> None:
        sub = await self._subscribe()
        self.bound = True
        while True:
            try:
                batch = await sub.fetch(self._settings.push_batch, timeout=FETCH_WAIT_SECONDS)
            except Exception as exc:
                reraise_if_cancelling(exc)  # nats-py turns a cancellation into an error when its connection closes
                if not isinstance(exc, TimeoutError):  # a timeout: nothing within the wait (nats-py's or asyncio's)
                    log.warning("fetch from the inbox stream failed", extra={"error": repr(exc)})  # reconnecting
                    await asyncio.sleep(RESUBSCRIBE_SECONDS)
                continue
            try:
                await self.handle(batch)
            except Exception as exc:
                reraise_if_cancelling(exc)
                log.exception("push decision failed; the messages will be redelivered")
                for msg in batch:
                    await msg.nak(delay=REDELIVER_DELAY_SECONDS)
                continue
            for msg in batch:
                await msg.ack()

    async def _subscribe(self) -> JetStreamContext.PullSubscription:
        """Bind the durable consumer, creating it on first start; until messaging has made its stream, retry."""
        config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW, ack_policy=AckPolicy.EXPLICIT,
                                ack_wait=ACK_WAIT_SECONDS, max_ack_pending=10 * self._settings.push_batch)
        while True:
            try:
                return await self._js.pull_subscribe(
                    self._subjects.inbox_subjects, durable=NOTIFICATIONS_CONSUMER,
                    stream=self._subjects.inbox_stream, config=config)
            except Exception as exc:
                reraise_if_cancelling(exc)
                log.warning("cannot bind the inbox consumer yet", extra={"error": repr(exc)})
                await asyncio.sleep(RESUBSCRIBE_SECONDS)

    async def handle(self, batch: list[Msg]) -> None:
        """Schedule a push for each pushable device of each recipient; one devices call and one statement for
        the whole batch (a call per recipient was one gRPC call and one devices SELECT per message: half the
        message rate, bench/RESULTS.md Session 4). Raises (nothing acknowledged) when devices or MySQL cannot
        answer."""
        by_user: dict[int, list[tuple[str, int, datetime]]] = defaultdict(list)
        for msg in batch:
            try:
                event, user_id = decode(msg.data), Subjects.user_of(msg.subject)
                data = event["data"]
                if event.get("event") == "new_message" and data.get("from_user_id") != user_id:
                    by_user[user_id].append((str(data["session_id"]), int(data["id"]), _stored_at(data["timestamp"])))
            except (KeyError, TypeError, ValueError):  # never redelivered forever: it can never be read
                metrics.MESSAGES.labels("unreadable").inc()
                log.error("unreadable message on the inbox stream, skipped", extra={"subject": msg.subject})
        if not by_user:
            return
        devices_of: dict[int, list[devices_pb2.Device]] = defaultdict(list)
        for device in await self._directory.push_devices(by_user):
            if pushable(device, self._providers):
                devices_of[device.user_id].append(device)
        items: list[NewMessage] = []
        for user_id, messages in by_user.items():
            devices = devices_of.get(user_id, [])
            metrics.MESSAGES.labels("scheduled" if devices else "no_push_device").inc(len(messages))
            items += [NewMessage(user_id, d.device_id, session_id, message_id, stored_at)
                      for session_id, message_id, stored_at in messages for d in devices]
        await self._store.schedule(items, self._settings.push_grace_seconds, self._settings.push_collapse_seconds)
