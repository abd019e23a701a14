"""Cross-node delivery: this node subscribes to ``{prefix}.user.<id>.>`` for every user it holds a socket of,
and turns what arrives there into socket.io emits. Whoever publishes (messaging, devices, edges for typing)
never needs to know which node holds which socket."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import socketio
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from prometheus_client import Counter, Gauge

from services.connection.offline import hold
from services.connection.registry import Registry, Socket
from switchboard.nats import SharedSubscriptions, Subjects, decode

log = logging.getLogger(__name__)

PUSHED = Counter("switchboard_edge_pushed_total", "Events pushed to sockets", ["event"])
WATCHED = Gauge("switchboard_edge_watched_users", "Users this node is subscribed for")

KickHandler = Callable[[Socket, str], Awaitable[None]]


class Fanout:
    def __init__(self, nc: Client, subjects: Subjects, sio: socketio.AsyncServer, registry: Registry,
                 kick: KickHandler) -> None:
        self._nc, self._subjects, self._sio, self._registry, self._kick = nc, subjects, sio, registry, kick
        self._shared = SharedSubscriptions(nc, self._deliver)
        # A user's subscription, or the task still making it (a second socket of the user waits for it too).
        self._subs: dict[int, Subscription | asyncio.Task[Subscription]] = {}

    def start(self) -> None:
        self._shared.start()

    async def stop(self) -> None:
        await self._shared.stop()

    async def watch(self, user_id: int) -> None:
        """Subscribe for ``user_id`` and wait until the server has the subscription (flush), so that nothing
        published after this returns can be missed — the caller fetches the backlog next."""
        sub = self._subs.get(user_id)
        if sub is None:
            sub = self._subs[user_id] = asyncio.create_task(self._subscribe(user_id))
            WATCHED.inc()
        if isinstance(sub, asyncio.Task):
            await asyncio.shield(sub)
        await self._nc.flush()

    async def _subscribe(self, user_id: int) -> Subscription:
        sub = await self._shared.subscribe(self._subjects.user_all(user_id))
        if self._subs.get(user_id) is asyncio.current_task():
            self._subs[user_id] = sub  # the task is done: keep only the subscription (memory per user)
        return sub

    async def unwatch(self, user_id: int) -> None:
        pending = self._subs.pop(user_id, None)
        if pending is None:
            return
        WATCHED.dec()
        try:
            await (await pending if isinstance(pending, asyncio.Task) else pending).unsubscribe()
        except Exception as exc:  # the connection may be closing; the subscription dies with it
            log.debug("unsubscribe failed", extra={"user_id": user_id, "error": repr(exc)})

    async def _deliver(self, msg: Msg) -> None:
        try:
            user_id = Subjects.user_of(msg.subject)
            envelope = decode(msg.data)
            event, data = envelope["event"], envelope["data"]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("dropping malformed event", extra={"subject": msg.subject, "error": repr(exc)})
            return
        if Subjects.is_typing_subject(msg.subject) and event != "typing":
            # Edges may publish on typing subjects only: whatever else comes from there is forged.
            log.warning("dropping a non-typing event from a typing subject", extra={"subject": msg.subject})
            return
        sockets = self._registry.user_sockets(user_id)
        if event == "kicked":
            for sock in sockets:
                if sock.device_id == envelope.get("device_id"):
                    await self._kick(sock, data.get("reason", ""))
            return
        skip = envelope.get("skip_connection")
        for sock in sockets:
            if sock.connection_id == skip:
                continue
            if event == "new_message" and sock.held is not None:
                hold(sock, data)
                continue
            await self._sio.emit(event, data, to=sock.sid)
            PUSHED.labels(event).inc()
