"""Waiting for a condition without wall-clock assertions: poll until it holds, fail after a generous limit."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

_UNSET = object()


async def eventually(probe: Callable[[], Any], expected: Any = _UNSET, timeout: float = 20,
                     interval: float = 0.05) -> Any:
    """Call ``probe`` (sync or async) until it returns ``expected`` (or anything truthy when no value is
    expected); return that value. On timeout, fail with the last value seen."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        last = probe()
        if inspect.isawaitable(last):
            last = await last
        if (last == expected) if expected is not _UNSET else bool(last):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met after {timeout}s; last value: {last!r}")
        await asyncio.sleep(interval)
