"""Natural batching: callers submit one request each; a few worker tasks each take everything that queued up
(up to ``batch_max``) and handle it in one go.

An idle worker takes a lone request at once, so batching adds no latency at low load; under load requests
pile up while a batch is in flight and the next batch is bigger, so a fixed cost per batch (a transaction's
round trips, a commit's fsync) is shared by more requests exactly when it matters."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
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
                 observe_batch: Callable[[int], None] | None = None) -> None:
        self._name, self._process, self._workers, self._batch_max = name, process, workers, batch_max
        self._observe = observe_batch
        self._queue: asyncio.Queue[_Queued[Req, Res]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._run(), name=f"{self._name}-{i}") for i in range(self._workers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while not self._queue.empty():
            queued = self._queue.get_nowait()
            if not queued.future.done():
                queued.future.set_exception(Unavailable(f"{self._name} is shutting down"))

    async def submit(self, request: Req) -> Res:
        future: asyncio.Future[Res] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Queued(request, future))
        return await future

    async def submit_many(self, requests: Sequence[Req]) -> list[Res | SwitchboardError]:
        """Submit in order (so they keep it, and share batches) and wait for all; each outcome is a result or
        the error that request alone failed with. No task per request."""
        if not requests:
            return []
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Res]] = [loop.create_future() for _ in requests]
        for request, future in zip(requests, futures, strict=True):
            self._queue.put_nowait(_Queued(request, future))
        try:
            await asyncio.wait(futures)
        except asyncio.CancelledError:
            for future in futures:
                future.cancel()  # the batch skips what nobody waits for any more
            raise
        return [exc if isinstance(exc := f.exception(), SwitchboardError) else f.result() for f in futures]

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            batch = [q for q in batch if not q.future.done()]  # callers that gave up
            if not batch:
                continue
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
