"""Pushing a user's undelivered messages to a socket that just registered, in pages, so that a user coming
back to thousands of messages is neither flooded in one burst nor kept waiting for all of them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio
from prometheus_client import Counter

from protos import messaging_pb2, messaging_pb2_grpc
from services.connection.registry import Registry, Socket
from services.connection.server import EdgeServer
from switchboard import events
from switchboard.errors import SwitchboardError

log = logging.getLogger(__name__)

OFFLINE_PUSHED = Counter("switchboard_edge_offline_pushed_total", "Offline messages pushed on registration")
HELD_DROPPED = Counter("switchboard_edge_held_dropped_total",
                       "Live messages not held during a backlog push (over MAX_HELD; the delivery sweep sends them)")

# Live messages held for one socket while its backlog is pushed. Past this many the rest are not kept: they
# are undelivered rows, which the delivery sweep pushes again a few seconds later.
MAX_HELD = 1000


def hold_live(sock: Socket) -> None:
    """From now until :func:`push_pending` ends, live ``new_message`` events for ``sock`` wait behind its
    backlog. Called before the subscription is made, so no live push can overtake the backlog."""
    if sock.held is None:
        sock.held = []


def hold(sock: Socket, data: dict[str, Any]) -> None:
    assert sock.held is not None
    if len(sock.held) < MAX_HELD:
        sock.held.append(data)
    else:
        HELD_DROPPED.inc()


async def _release(sio: socketio.AsyncServer, sock: Socket) -> None:
    """Emit what was held, in arrival order, then stop holding (events arriving meanwhile join the queue)."""
    held = sock.held or []
    while held:
        await sio.emit("new_message", held.pop(0), to=sock.sid)
    sock.held = None


async def push_pending(sio: socketio.AsyncServer, registry: Registry,
                       messaging: messaging_pb2_grpc.MessagingServiceStub, sock: Socket, batch: int) -> int:
    """Emit every undelivered message of the socket's user to it, per session in sequence order, then the
    live messages held meanwhile (:func:`hold_live`). They stay undelivered until a device acknowledges them,
    so an interrupted push is simply repeated next time."""
    hold_live(sock)
    try:
        return await _push_backlog(sio, registry, messaging, sock, batch)
    finally:
        await _release(sio, sock)


async def _push_backlog(sio: EdgeServer, registry: Registry,
                        messaging: messaging_pb2_grpc.MessagingServiceStub, sock: Socket, batch: int) -> int:
    assert sock.identity is not None
    cursor, pushed = 0, 0
    while registry.get(sock.sid) is sock:
        await sio.drained(sock.sid)  # a page at a time, as fast as the client reads (the backlog is bounded)
        try:
            page = await messaging.FetchPending(
                messaging_pb2.FetchPendingRequest(user_id=sock.identity.user_id, limit=batch, after_id=cursor)
            )
        except SwitchboardError as exc:
            log.warning("offline push interrupted", extra={"sid": sock.sid, "error": exc.message})
            break
        for message in page.messages:
            await sio.emit("new_message", events.new_message(message, offline=True), to=sock.sid)
        pushed += len(page.messages)
        OFFLINE_PUSHED.inc(len(page.messages))
        if not page.has_more:
            break
        cursor = page.next_cursor
    if pushed:
        log.info("offline messages pushed", extra={"sid": sock.sid, "user_id": sock.identity.user_id,
                                                   "count": pushed})
    return pushed


async def push_pending_to_all(sio: socketio.AsyncServer, registry: Registry,
                              messaging: messaging_pb2_grpc.MessagingServiceStub, batch: int,
                              concurrency: int = 8) -> None:
    """After this node's NATS link came back: live events published while it was away went nowhere, but they
    are still undelivered, so every registered socket gets its backlog again (clients drop repeats by id)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(sock: Socket) -> None:
        async with gate:
            await push_pending(sio, registry, messaging, sock, batch)

    sockets = [s for s in registry.sockets() if s.registered]
    log.info("re-pushing pending messages after a NATS reconnect", extra={"sockets": len(sockets)})
    await asyncio.gather(*(one(s) for s in sockets))
