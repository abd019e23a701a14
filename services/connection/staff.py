"""Broadcasts to every agent and admin: the waiting queue's changes (``queue_updated``), so a console never polls.

Messaging publishes them once on ``{prefix}.staff``; each edge node subscribes once (not per user) and emits what
arrives to one socket.io room, which a socket joins when it registers with a staff role. A customer's socket
never joins it, so a queue change (another customer's session) cannot reach a customer."""

from __future__ import annotations

import contextlib
import logging

import socketio
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from services.connection.registry import Socket
from switchboard.contract.events import STAFF_ROLES
from switchboard.nats import Subjects, decode

log = logging.getLogger(__name__)

ROOM = "staff"
# What the staff subject carries. Only messaging may publish there (switchboard.nats_auth); anything else
# arriving is dropped all the same, as the fan-out drops what does not belong on a typing subject.
BROADCASTS = frozenset({"queue_updated"})


class StaffBroadcasts:
    def __init__(self, nc: Client, subjects: Subjects, sio: socketio.AsyncServer) -> None:
        self._nc, self._subjects, self._sio = nc, subjects, sio
        self._sub: Subscription | None = None

    async def start(self) -> None:
        """Subscribe before any socket can register: a console lists the queue after registering, and every
        change after that list must reach it."""
        self._sub = await self._nc.subscribe(self._subjects.staff, cb=self._deliver)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):  # the connection may be closing; the subscription dies with it
                await self._sub.unsubscribe()

    async def join(self, sock: Socket) -> None:
        """A registered socket hears the broadcasts if its identity is staff's. Leaving is python-socketio's:
        a disconnected socket leaves every room."""
        if sock.identity is not None and sock.identity.role in STAFF_ROLES:
            await self._sio.enter_room(sock.sid, ROOM)

    async def _deliver(self, msg: Msg) -> None:
        try:
            envelope = decode(msg.data)
            event, data = envelope["event"], envelope["data"]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("dropping malformed staff broadcast", extra={"error": repr(exc)})
            return
        if event not in BROADCASTS:
            log.warning("dropping an undeclared staff broadcast", extra={"event": str(event)[:64]})
            return
        await self._sio.emit(event, data, room=ROOM)
