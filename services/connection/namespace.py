"""The socket.io namespace: one method per event of the contract (``on_<event>(sock, args)``, in
:mod:`services.connection.lifecycle` and :mod:`services.connection.chat`) and ONE hook, :meth:`EdgeNamespace.
trigger_event`, that every client event goes through. The hook reads the event's declaration
(:data:`switchboard.contract.EVENTS`) and, in this order: finds the socket, refuses it unless registered (when the
event needs it), refuses an expired token (``UNAUTHENTICATED``, reason ``TOKEN_EXPIRED``; ``register`` with a
fresh token renews it), checks the role, spends the rate budget, parses the payload, bounds the events with
large replies in flight; then calls the method, maps any error to ``{"success": false, "error": {code, message}}``
and records metrics. Methods only say what the event does, with arguments already checked.

``connect`` and ``disconnect`` are python-socketio's lifecycle calls; a client EVENT packet with those names never
gets here (:mod:`services.connection.server` refuses it)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from prometheus_client import Counter, Histogram

from services.connection.chat import ConversationEvents
from services.connection.edge import Edge
from services.connection.lifecycle import LifecycleEvents
from services.connection.quiet_log import quiet_logger
from services.connection.registry import Socket
from switchboard.contract import EVENTS, Event
from switchboard.errors import (
    Forbidden,
    Internal,
    InvalidArgument,
    NotRegistered,
    RateLimited,
    SwitchboardError,
    Unauthenticated,
)

log = logging.getLogger(__name__)
# Unexpected errors are our bugs, but a client can trigger one repeatedly: one line each, rate-limited.
bug_log = quiet_logger("switchboard.edge.bugs")

EVENTS_TOTAL = Counter("switchboard_edge_events_total", "Client events handled", ["event", "outcome"])
EVENT_SECONDS = Histogram(
    "switchboard_edge_event_seconds", "Client event handling time", ["event"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

Method = Callable[[Socket, dict[str, Any]], Awaitable[dict[str, Any]]]


class _Bound:
    """An event's declaration, its method and its metric children, resolved once at start-up."""

    __slots__ = ("event", "method", "ok", "seconds")

    def __init__(self, event: Event, method: Method) -> None:
        self.event, self.method = event, method
        self.ok = EVENTS_TOTAL.labels(event.name, "ok")
        self.seconds = EVENT_SECONDS.labels(event.name)


class EdgeNamespace(LifecycleEvents, ConversationEvents, socketio.AsyncNamespace):
    def __init__(self, edge: Edge) -> None:
        socketio.AsyncNamespace.__init__(self, "/")
        self.edge = edge
        self._bound = {name: _Bound(event, getattr(self, f"on_{name}")) for name, event in EVENTS.items()}

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event == "connect":
            return await self.on_connect(*args)
        if event == "disconnect":
            return await self.on_disconnect(*args)
        return await self.handle(event, *args)

    async def handle(self, name: str, sid: str, *payload: Any) -> dict[str, Any]:
        """The hook (see the module's docstring)."""
        bound = self._bound.get(name)
        if bound is None:  # the server refuses undeclared names first; this is the belt to its braces
            return InvalidArgument(f"unknown event {name[:64]!r}").to_reply()
        started = time.perf_counter()
        try:
            sock = self.edge.registry.get(sid)
            if sock is None:
                raise NotRegistered("unknown socket")
            event = bound.event
            identity = sock.identity
            now = time.monotonic()
            if event.registered:
                if not sock.registered:
                    raise NotRegistered()
                if now >= sock.expires_at:
                    raise Unauthenticated("token expired; register again with a fresh token", reason="TOKEN_EXPIRED")
                if identity.role not in event.roles:  # type: ignore[union-attr]  # registered: identity is set
                    raise Forbidden(f"{name} is not allowed for role {identity.role}")  # type: ignore[union-attr]
            if len(payload) > 1:
                raise InvalidArgument("an event carries one payload object")
            self.edge.limits.take(sock.buckets, identity.user_id if sock.registered else None,  # type: ignore[union-attr]
                                  event.rate, now)
            args = event.parse(payload[0] if payload else None)
            if not event.bulky:
                reply = await bound.method(sock, args)
            elif sock.inflight >= self.edge.settings.max_events_in_flight:
                raise RateLimited("too many large replies in flight on this socket; wait for them")
            else:
                sock.inflight += 1
                try:
                    reply = await bound.method(sock, args)
                finally:
                    sock.inflight -= 1
            bound.ok.inc()
            return reply
        except SwitchboardError as exc:
            EVENTS_TOTAL.labels(name, exc.code).inc()
            return exc.to_reply()
        except Exception as exc:
            EVENTS_TOTAL.labels(name, "INTERNAL").inc()
            bug_log.error("event failed", extra={"event": name, "sid": sid, "error": repr(exc)[:200]}, exc_info=True)
            return Internal().to_reply()
        finally:
            bound.seconds.observe(time.perf_counter() - started)
