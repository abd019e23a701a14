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


class CpuMeter:
    """CPU seconds spent by named processes between ``start()`` and ``stop()``."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self._start: dict[str, float] = {}

    def start(self) -> None:
        self._start = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def stop(self) -> dict[str, float]:
        return {name: round(cpu_seconds(pid) - self._start.get(name, 0.0), 3) for name, pid in self.pids.items()}


def per_thousand(cpu: Mapping[str, float], messages: int) -> dict[str, float | None]:
    """CPU seconds per 1,000 messages, per process: the cost figure that stays comparable across rates."""
    return {name: (round(sec * 1000 / messages, 3) if messages else None) for name, sec in cpu.items()}
