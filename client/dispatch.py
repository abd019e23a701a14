"""Callback dispatch: every application callback runs on one place, one at a time, in event order.

The sync face runs them on a dedicated thread, not on the SDK's event loop thread, so a callback may call the
blocking API (``open_session()``, ``handle.result()``…) without deadlocking the loop that would answer it.
The async face runs them as one consumer task on the application's loop; coroutine callbacks are awaited.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger(__name__)

Callback = Callable[..., Any]


class Dispatcher(Protocol):
    def submit(self, fn: Callback, *args: Any) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


class ThreadDispatcher:
    """One daemon thread draining a FIFO. ``submit`` is thread-safe."""

    def __init__(self, name: str = "switchboard-sdk-callbacks") -> None:
        self._queue: queue.SimpleQueue[tuple[Callback, tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def submit(self, fn: Callback, *args: Any) -> None:
        self._queue.put((fn, args))

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            fn, args = item
            try:
                result = fn(*args)
                if inspect.isawaitable(result):
                    log.warning("callback %r returned an awaitable; the sync client does not await callbacks", fn)
                    close = getattr(result, "close", None)
                    if close:
                        close()
            except Exception:
                log.exception("callback %r raised", fn)

    def close(self, timeout: float | None = None) -> None:
        """Run what is queued, then stop. Called from the callback thread itself, it only asks to stop."""
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)


class LoopDispatcher:
    """One consumer task on the running loop; ``submit`` must be called on that loop's thread."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[tuple[Callback, tuple[Any, ...]] | None] | None = None
        self._task: asyncio.Task[None] | None = None

    def submit(self, fn: Callback, *args: Any) -> None:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = asyncio.get_running_loop().create_task(self._run(self._queue))
        self._queue.put_nowait((fn, args))

    @staticmethod
    async def _run(q: asyncio.Queue[tuple[Callback, tuple[Any, ...]] | None]) -> None:
        while (item := await q.get()) is not None:
            fn, args = item
            try:
                result = fn(*args)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("callback %r raised", fn)

    async def drain(self) -> None:
        """Run what is queued, then stop the consumer (a later ``submit`` starts a new one)."""
        if self._queue is not None and self._task is not None and not self._task.done():
            self._queue.put_nowait(None)
            if self._task is not asyncio.current_task():
                await self._task
        self._queue, self._task = None, None

    def close(self, timeout: float | None = None) -> None:
        if self._task is not None and not self._task.done() and self._queue is not None:
            self._queue.put_nowait(None)
