"""Workers stop when their service stops: cancelled and awaited, and never waited for forever."""

from __future__ import annotations

import asyncio
import logging

import pytest

from switchboard import workers


class Obedient(workers.Worker):
    name = "obedient"

    def __init__(self) -> None:
        self.stopped = False

    async def run(self) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            self.stopped = True


class Stubborn(workers.Worker):
    """What a loop becomes when a library turns its cancellation into an error it survives."""

    name = "stubborn"
    released = False

    async def run(self) -> None:
        while not self.released:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue


async def test_a_worker_is_cancelled_and_awaited() -> None:
    worker = Obedient()
    worker.start()
    await asyncio.sleep(0)
    await worker.stop()
    assert worker.stopped


async def test_a_worker_that_ignores_its_cancellation_does_not_hang_the_shutdown(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(workers, "STOP_SECONDS", 0.1)
    worker = Stubborn()
    worker.start()
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="switchboard.workers"):
        await worker.stop()
    assert any("ignored its cancellation" in r.getMessage() for r in caplog.records)
    [leftover] = [t for t in asyncio.all_tasks() if t.get_name() == "stubborn"]
    assert not leftover.done()  # left behind, as logged
    worker.released = True  # the test's own clean-up: a real service exits its process
    await leftover
