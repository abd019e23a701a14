"""What every part of one client shares on its event loop: the application's callbacks and the background
tasks the parts start. Kept in one object so ``disconnect()`` can cancel every task, whichever part started
it, and so each part emits events without knowing how callbacks are dispatched (thread or loop)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections import defaultdict
from collections.abc import Awaitable, Callable
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


def positional_arity(fn: Callback) -> int | None:
    """How many positional arguments ``fn`` accepts; ``None`` for all (``*args``, or a signature Python cannot
    read). Apps register ``def on_disconnect(): …`` as often as ``def on_disconnect(reason): …``: each callback
    gets the leading arguments it takes instead of a TypeError."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Runtime:
    """Callbacks by event, and the client's tasks kept referenced until done."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.callbacks: dict[str, list[tuple[Callback, int | None]]] = defaultdict(list)
        self._tasks: set[asyncio.Task[Any]] = set()

    def add_callback(self, event: str, fn: Callback) -> Callback:
        """Thread-safe enough: appending to a list is atomic; callbacks are registered before connect().
        The signature is read once, here."""
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; one of {sorted(EVENTS)}")
        self.callbacks[event].append((fn, positional_arity(fn)))
        return fn

    def emit(self, event: str, *args: Any) -> None:
        for fn, arity in list(self.callbacks.get(event, ())):
            self.dispatcher.submit(fn, *args[:arity])

    def after_callbacks(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` on this (the SDK's) loop once every callback emitted so far has returned (or raised).

        Dispatch is one FIFO, so a marker queued behind them runs after them; it hops back to the loop because
        the sync face runs callbacks on another thread. What waits for the app (a delivered receipt) uses it.
        """
        loop = asyncio.get_running_loop()

        def back_on_loop() -> None:
            if _running_loop() is loop:  # the async face: already there, and drain() waits for it
                fn()
                return
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (the client was closed)
                loop.call_soon_threadsafe(fn)

        self.dispatcher.submit(back_on_loop)

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        """A task kept referenced until done (the loop keeps only weak references)."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
