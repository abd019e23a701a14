"""Long-running loops owned by a service (sweeps, retry workers, flushers)."""

from __future__ import annotations

import abc
import asyncio
import contextlib
from typing import ClassVar


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
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
