"""Numbers from samples and from processes: percentiles, CPU seconds and RSS of PIDs (psutil)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import psutil

PERCENTILES = (50, 90, 99)


def percentiles(samples_s: Sequence[float], points: Iterable[int] = PERCENTILES) -> dict[str, float | None]:
    """Nearest-rank percentiles, in milliseconds (``None`` without samples, so a JSON reader sees the gap)."""
    ordered = sorted(samples_s)
    out: dict[str, float | None] = {}
    for p in points:
        if not ordered:
            out[f"p{p}"] = None
            continue
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        out[f"p{p}"] = round(ordered[rank - 1] * 1000, 2)
    out["max"] = round(ordered[-1] * 1000, 2) if ordered else None
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process; 0 when it is gone (the report then shows no cost, not a crash)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system


def rss_bytes(pid: int) -> int:
    try:
        return psutil.Process(pid).memory_info().rss
    except psutil.Error:
        return 0


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores, everything but idle and iowait)."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def mysql_pid() -> int | None:
    """The local MariaDB/MySQL server, whose CPU is part of the message path (but shared with anyone else)."""
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in ("mariadbd", "mysqld"):
            return proc.pid
    return None


class CpuMeter:
    """CPU seconds spent by named processes between ``start()`` and ``stop()``, and by everything else on the
    machine (``other``): on a shared two-core machine a step is only as good as the CPU nobody else took."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self._start: dict[str, float] = {}
        self._machine = 0.0

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self._machine = machine_busy_seconds()

    def stop(self) -> dict[str, float]:
        used = {name: round(cpu_seconds(pid) - self._start.get(name, 0.0), 3) for name, pid in self.pids.items()}
        used["other"] = round(max(0.0, machine_busy_seconds() - self._machine - sum(used.values())), 3)
        return used


def per_thousand(cpu: Mapping[str, float], messages: int) -> dict[str, float | None]:
    """CPU seconds per 1,000 messages, per process: the cost figure that stays comparable across rates."""
    return {name: (round(sec * 1000 / messages, 3) if messages else None) for name, sec in cpu.items()}


async def wait_quiet(own_pids: Mapping[str, int], max_other_cores: float, window: float = 2.0,
                     timeout: float = 90.0, max_own_cores: float | None = None) -> float:
    """Wait (at most ``timeout``) until processes other than ours use less than ``max_other_cores`` over a
    ``window`` (and, with ``max_own_cores``, ours too: an overloaded step leaves MySQL purging and flushing and
    services draining for a while, which the next step would pay for); returns the last reading of the others.
    On a machine shared with other people's test runs this keeps a step from starting in the middle of someone
    else's burst — it cannot stop one that starts later."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    other = float("inf")
    while time.monotonic() < deadline:
        ours0 = sum(cpu_seconds(pid) for pid in own_pids.values())
        busy0 = machine_busy_seconds()
        await asyncio.sleep(window)
        ours = sum(cpu_seconds(pid) for pid in own_pids.values()) - ours0
        other = max(0.0, machine_busy_seconds() - busy0 - ours) / window
        if other < max_other_cores and (max_own_cores is None or ours / window < max_own_cores):
            break
    return round(other, 2)
