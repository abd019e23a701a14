"""Long-running loops owned by a service (sweeps, retry workers, flushers)."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from typing import ClassVar

from prometheus_client import Counter

log = logging.getLogger(__name__)

# How long a cancelled loop gets to finish what it is doing (one statement, one publish).
STOP_SECONDS = 5.0


def reraise_if_cancelling(error: Exception) -> None:
    """For a loop's ``except Exception``: a library may turn the loop's cancellation into an error of its own
    (nats-py does when its connection is closing); a loop that survives errors must not survive its stop."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError from error


class Worker(abc.ABC):
    """Started with the app and cancelled *and awaited* when it stops, so shutdown never leaves a loop writing
    to a pool or a NATS connection that is being closed."""

    name: ClassVar[str]
    _task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def run(self) -> None:
        """The loop; it should survive its own transient failures and only end by cancellation."""

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait for it, but not forever: a library that turns the cancellation into an error
        the loop survives (nats-py does, when its connection is closing) would otherwise hang the shutdown."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_SECONDS)
        if not task.done():
            log.error("worker ignored its cancellation; left behind", extra={"worker": self.name})
            return
        with contextlib.suppress(asyncio.CancelledError):
            await task  # done: raises what ended it, if not the cancellation


class PeriodicWorker(Worker):
    """A pass every :meth:`interval` seconds (read each time, so settings stay live in tests). A failed pass is
    counted in ``passes{outcome="failed"}`` and logged; the next one runs as scheduled."""

    passes: ClassVar[Counter]

    @abc.abstractmethod
    def interval(self) -> float: ...

    @abc.abstractmethod
    async def run_once(self) -> object:
        """One pass."""

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval())
            try:
                await self.run_once()
                self.passes.labels("ok").inc()
            except Exception as error:
                reraise_if_cancelling(error)
                self.passes.labels("failed").inc()
                log.exception("%s pass failed", self.name)
