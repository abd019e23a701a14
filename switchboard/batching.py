"""Natural batching: callers submit one request each; a few worker tasks each take everything that queued up
(up to ``batch_max``) and handle it in one go.

An idle worker takes a lone request at once, so batching adds no latency at low load; under load requests
pile up while a batch is in flight and the next batch is bigger, so a fixed cost per batch (a transaction's
round trips, a commit's fsync) is shared by more requests exactly when it matters.

With several workers, batches run concurrently and could overtake each other. Requests that must stay in
order (a session's messages) share a ``key``: a request whose key is in a batch still in flight is held back,
with every later request of that key, until that batch is done; others go ahead."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

from switchboard.errors import SwitchboardError, Unavailable

log = logging.getLogger(__name__)

Req = TypeVar("Req")
Res = TypeVar("Res")

# One outcome per request, in order: a result, or the error that request (alone) failed with.
Process = Callable[[Sequence[Req]], Awaitable[Sequence["Res | SwitchboardError"]]]


@dataclasses.dataclass(slots=True)
class _Queued(Generic[Req, Res]):
    request: Req
    future: asyncio.Future[Res]


class Batcher(Generic[Req, Res]):
    def __init__(self, name: str, process: Process[Req, Res], workers: int, batch_max: int,
                 observe_batch: Callable[[int], None] | None = None,
                 key: Callable[[Req], Hashable] | None = None) -> None:
        self._name, self._process, self._workers, self._batch_max = name, process, workers, batch_max
        self._observe, self._key = observe_batch, key
        # ``None`` is a wake-up: a key was released while requests were held for it.
        self._queue: asyncio.Queue[_Queued[Req, Res] | None] = asyncio.Queue()
        self._held: deque[_Queued[Req, Res]] = deque()  # older than anything in the queue, in arrival order
        self._busy: set[Hashable] = set()  # keys of the batches in flight
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name=f"{self._name}-{i}") for i in range(self._workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        waiting = list(self._held)
        while not self._queue.empty():
            waiting.append(self._queue.get_nowait())
        for queued in waiting:
            if queued is not None and not queued.future.done():
                queued.future.set_exception(Unavailable(f"{self._name} is shutting down"))

    async def submit(self, request: Req) -> Res:
        future: asyncio.Future[Res] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Queued(request, future))
        return await future

    def _take(self, first: _Queued[Req, Res] | None) -> tuple[list[_Queued[Req, Res]], set[Hashable]]:
        """The next batch (held requests first, then the queue, in order) and its keys."""
        candidates = [*self._held, *([first] if first is not None else [])]
        self._held.clear()
        while not self._queue.empty():
            queued = self._queue.get_nowait()
            if queued is not None:
                candidates.append(queued)
        batch: list[_Queued[Req, Res]] = []
        keys: set[Hashable] = set()
        blocked: set[Hashable] = set()
        overflow = False
        for queued in candidates:
            if queued.future.done():  # the caller gave up
                continue
            key = self._key(queued.request) if self._key is not None else None
            waits_for_key = key is not None and (key in self._busy or key in blocked)
            if waits_for_key or len(batch) >= self._batch_max:
                overflow = overflow or not waits_for_key
                self._held.append(queued)
                if key is not None:
                    blocked.add(key)
                continue
            batch.append(queued)
            if key is not None:
                keys.add(key)
        if overflow:  # more than one batch was waiting: the next free worker takes the rest
            self._queue.put_nowait(None)
        return batch, keys

    async def _run(self) -> None:
        while True:
            batch, keys = self._take(await self._queue.get())
            if not batch:
                continue
            self._busy |= keys
            try:
                await self._handle(batch)
            finally:
                self._busy -= keys
                if self._held:
                    self._queue.put_nowait(None)

    async def _handle(self, batch: list[_Queued[Req, Res]]) -> None:
        if self._observe is not None:
            self._observe(len(batch))
        try:
            outcomes = await self._process([q.request for q in batch])
        except Exception:
            log.exception("batch failed", extra={"batcher": self._name, "batch": len(batch)})
            outcomes = [Unavailable("could not complete the request, retry")] * len(batch)
        for queued, outcome in zip(batch, outcomes, strict=True):
            if queued.future.done():
                continue
            if isinstance(outcome, SwitchboardError):
                queued.future.set_exception(outcome)
            else:
                queued.future.set_result(outcome)
