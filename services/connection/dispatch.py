"""Binding socket.io events to handlers: one place turns errors into replies and records metrics, so handlers
only say what the event does."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import socketio
from prometheus_client import Counter, Histogram

from services.connection.registry import Registry, Socket
from services.connection.validation import payload
from switchboard.errors import Internal, NotRegistered, SwitchboardError

log = logging.getLogger(__name__)

EVENTS = Counter("switchboard_edge_events_total", "Client events handled", ["event", "outcome"])
EVENT_SECONDS = Histogram(
    "switchboard_edge_event_seconds", "Client event handling time", ["event"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

Handler = Callable[[Socket, dict[str, Any]], Awaitable[dict[str, Any]]]


def bind(sio: socketio.AsyncServer, registry: Registry, event: str, handler: Handler,
         *, registered: bool = True) -> None:
    """Register ``handler`` for ``event``. Its return value is the ack; a :class:`SwitchboardError` becomes
    ``{"success": false, "error": {...}}``; anything unexpected is logged and answered ``INTERNAL``."""

    async def on_event(sid: str, data: Any = None) -> dict[str, Any]:
        started, outcome = time.perf_counter(), "ok"
        try:
            sock = registry.require_registered(sid) if registered else registry.get(sid)
            if sock is None:
                raise NotRegistered("unknown socket")
            return await handler(sock, payload(data))
        except SwitchboardError as exc:
            outcome = exc.code
            return exc.to_reply()
        except Exception:
            outcome = "INTERNAL"
            log.exception("event failed", extra={"event": event, "sid": sid})
            return Internal().to_reply()
        finally:
            EVENTS.labels(event, outcome).inc()
            EVENT_SECONDS.labels(event).observe(time.perf_counter() - started)

    sio.on(event, on_event)
