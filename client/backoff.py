"""Reconnect backoff: exponential from a base, full jitter, a cap, optional attempt limit.

Pure (the clock and the random source are injected) so the schedule is unit-testable without sleeping.
Full jitter — ``uniform(0, min(cap, base·2ⁿ))`` — spreads a crowd of clients that lost the same edge node
across the whole window, so they do not come back in lockstep and knock it over again.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable


class Backoff:
    """Delays between connection attempts.

    ``base`` and ``cap`` are read through callables so an application can change ``retry_interval`` or
    ``max_retry_interval`` on a running client and the next delay follows.

    A connection that stays up for ``stable_after`` seconds resets the exponent; one that drops sooner does
    not, so a server that accepts and immediately drops us (a crash loop, a rejected registration) still gets
    a growing delay instead of a reconnect storm.
    """

    def __init__(
        self,
        base: Callable[[], float],
        cap: Callable[[], float],
        max_retries: Callable[[], int | None] = lambda: None,
        stable_after: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
    ) -> None:
        self._base, self._cap, self._max_retries = base, cap, max_retries
        self._stable_after = stable_after or (lambda: max(self._base(), 10.0))
        self._clock, self._random = clock, random
        self.attempt = 0
        self._connected_at: float | None = None

    def ceiling(self, attempt: int) -> float:
        """The upper bound of the jitter window for the given attempt (0-based)."""
        base, cap = max(self._base(), 0.0), max(self._cap(), 0.0)
        # 2**attempt overflows float for huge attempt counts; the cap is reached long before that.
        return min(cap, base * (2.0 ** min(attempt, 62)))

    def next_delay(self) -> float | None:
        """The delay before the next attempt, or ``None`` when ``max_retries`` attempts were spent."""
        limit = self._max_retries()
        if limit is not None and self.attempt >= limit:
            return None
        delay = self._random() * self.ceiling(self.attempt)
        self.attempt += 1
        return delay

    def connected(self) -> None:
        """A connection (and registration) succeeded; remember when, to judge its stability on drop."""
        self._connected_at = self._clock()

    def dropped(self) -> None:
        """The connection ended; reset the exponent only when it had been stable."""
        if self._connected_at is not None and self._clock() - self._connected_at >= self._stable_after():
            self.attempt = 0
        self._connected_at = None

    def reset(self) -> None:
        self.attempt = 0
        self._connected_at = None
