"""Natural batching: what queued while a batch ran goes in the next one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from switchboard.batching import Batcher
from switchboard.errors import InvalidArgument, SwitchboardError, Unavailable


class Recorder:
    """A process function that records its batches and can be held open, to steer what overlaps."""

    def __init__(self) -> None:
        self.batches: list[list[tuple[str, int]]] = []
        self.running: list[list[tuple[str, int]]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, requests: Sequence[tuple[str, int]]) -> list[int | SwitchboardError]:
        batch = list(requests)
        self.batches.append(batch)
        self.running.append(batch)
        await self.gate.wait()
        await asyncio.sleep(0)
        self.running.remove(batch)
        return [InvalidArgument("negative") if n < 0 else n * 10 for _, n in batch]


async def test_a_lone_request_goes_at_once_and_what_queues_meanwhile_is_the_next_batch() -> None:
    process = Recorder()
    batcher = Batcher("test", process, workers=1, batch_max=100)
    batcher.start()
    try:
        assert await batcher.submit(("a", 1)) == 10
        process.gate.clear()
        first = asyncio.ensure_future(batcher.submit(("a", 2)))
        await asyncio.sleep(0.01)
        rest = [asyncio.ensure_future(batcher.submit(("b", n))) for n in range(3, 8)]
        await asyncio.sleep(0.01)
        process.gate.set()
        assert await first == 20 and [await r for r in rest] == [30, 40, 50, 60, 70]
        assert [len(b) for b in process.batches] == [1, 1, 5]
    finally:
        await batcher.stop()


async def test_one_request_failing_does_not_fail_its_batch() -> None:
    batcher = Batcher("test", Recorder(), workers=1, batch_max=10)
    batcher.start()
    try:
        good, bad = asyncio.ensure_future(batcher.submit(("a", 1))), asyncio.ensure_future(batcher.submit(("a", -1)))
        assert await good == 10
        with pytest.raises(InvalidArgument):
            await bad
    finally:
        await batcher.stop()


async def test_batches_never_exceed_batch_max_and_the_rest_still_goes() -> None:
    process = Recorder()
    batcher = Batcher("test", process, workers=1, batch_max=3)
    batcher.start()
    try:
        results = await asyncio.gather(*(batcher.submit((str(n), n)) for n in range(10)))
        assert results == [n * 10 for n in range(10)]
        assert max(len(b) for b in process.batches) == 3
    finally:
        await batcher.stop()


async def test_stopping_fails_what_is_still_waiting() -> None:
    process = Recorder()
    batcher = Batcher("test", process, workers=1, batch_max=1)
    batcher.start()
    process.gate.clear()
    first = asyncio.ensure_future(batcher.submit(("s", 1)))
    waiting = asyncio.ensure_future(batcher.submit(("s", 2)))
    await asyncio.sleep(0.01)
    await batcher.stop()
    with pytest.raises(Unavailable):
        await waiting
    first.cancel()
