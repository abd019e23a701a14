"""Forwards the devices service's presence transitions (``{prefix}.presence.<user_id>``) to the other
participant of each of the user's open sessions, as a ``presence`` event on that participant's user subject
(one per session, with its ``session_id``). The subscription is in a queue group, so one replica handles each
transition; within a replica the client hands this subscription's messages over one at a time, in order."""

from __future__ import annotations

import contextlib
import logging

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from services.messaging import metrics
from services.messaging.publisher import Publisher
from services.messaging.store import Store
from switchboard.nats import Subjects, decode

log = logging.getLogger(__name__)


class PresenceForwarder:
    def __init__(self, nc: Client, subjects: Subjects, store: Store, publisher: Publisher) -> None:
        self._nc, self._subjects, self._store, self._publisher = nc, subjects, store, publisher
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self._nc.subscribe(
            self._subjects.presence_wildcard, queue=f"{self._subjects.prefix}-messaging-presence", cb=self._forward)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):  # the connection may be closing; the subscription dies with it
                await self._sub.unsubscribe()
            self._sub = None

    async def _forward(self, msg: Msg) -> None:
        try:
            data = decode(msg.data)["data"]
            user_id, online, last_seen = int(data["user_id"]), bool(data["online"]), str(data["last_seen"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("dropping malformed presence event", extra={"subject": msg.subject, "error": repr(exc)})
            return
        try:
            sessions = await self._store.open_sessions_of(user_id)
        except Exception:  # the registry still answers GetPresence; this transition is not worth more
            log.exception("presence not forwarded: sessions unreadable", extra={"user_id": user_id})
            return
        for session in sessions:
            counterpart = session.agent_id if session.user_id == user_id else session.user_id
            if not counterpart or counterpart == user_id:
                continue
            await self._publisher.presence(counterpart, {
                "user_id": user_id, "online": online, "last_seen": last_seen, "session_id": session.session_id})
            metrics.PRESENCE_FORWARDED.inc()
