"""What every part of one client shares on its event loop: the application's callbacks and the background
tasks the parts start. Kept in one object so ``disconnect()`` can cancel every task, whichever part started
it, and so each part emits events without knowing how callbacks are dispatched (thread or loop)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable
from typing import Any

from client.dispatch import Callback, Dispatcher

#: The events an application can subscribe to (``on_<name>``), with the callback's arguments.
EVENTS = {
    "connect": "()",
    "disconnect": "(reason: str)",
    "message": "(message: dict)",
    "status_change": "(status: ConnectionStatus)",
    "message_status": "(status: dict)",
    "typing": "(typing: dict)",
    "session_updated": "(session: dict)",
    "kicked": "(kick: dict)",
    "error": "(error: Exception)",
    "send_failed": "(message: dict, error: RequestError)",
    "message_sent": "(message: dict, ack: dict)",
}


class Runtime:
    """Callbacks by event, and the client's tasks kept referenced until done."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.callbacks: dict[str, list[Callback]] = defaultdict(list)
        self._tasks: set[asyncio.Task[Any]] = set()

    def add_callback(self, event: str, fn: Callback) -> Callback:
        """Thread-safe enough: appending to a list is atomic; callbacks are registered before connect()."""
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; one of {sorted(EVENTS)}")
        self.callbacks[event].append(fn)
        return fn

    def emit(self, event: str, *args: Any) -> None:
        for fn in list(self.callbacks.get(event, ())):
            self.dispatcher.submit(fn, *args)

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """A task kept referenced until done (the loop keeps only weak references)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
