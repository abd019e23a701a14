"""Retry delays, pure (the clock and the random source are injected) so schedules are unit-testable without
sleeping.

:class:`Backoff` spaces reconnect attempts. Its window grows with the time spent failing rather than with
the attempt count: ``window = min(cap, max(base, growth · failing_for))`` and each delay is drawn from
``uniform(0, window)`` (full jitter). With ``growth = ½`` a client is back within about half the outage after
the server is (and within ``base`` at first): a 10 s edge restart costs at most ~5 s more, where doubling per
attempt had clients wait 16 s after a 5 s outage. A server down for long still sees attempts thin out
geometrically, and full jitter spreads a crowd of clients that lost the same edge across the whole window, so
they do not come back in lockstep and knock it over again.

:class:`RetryDelay` spaces retries of a request the server refused for now (``UNAVAILABLE``,
``RATE_LIMITED``…) on a live link: short, jittered, capped at a couple of seconds, and reset by the first
sign that the backend is back, so queued work resumes within that cap of the backend's return.
"""

from __future__ import annotations

import random as _random
import time
from collections.abc import Callable


class Backoff:
    """Delays between connection attempts.

    ``base`` and ``cap`` are read through callables so an application can change ``retry_interval`` or
    ``max_retry_interval`` on a running client and the next delay follows.

    The failing period starts at the first delay after a working link (or after ``reset``). A link that stays
    up for ``stable_after`` seconds ends it; one that drops sooner does not, so a server that accepts and
    immediately drops us (a crash loop, a rejected registration) still sees the window grow instead of a
    reconnect storm.
    """

    def __init__(
        self,
        base: Callable[[], float],
        cap: Callable[[], float],
        max_retries: Callable[[], int | None] = lambda: None,
        stable_after: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
        random: Callable[[], float] = _random.random,
        growth: float = 0.5,
    ) -> None:
        self._base, self._cap, self._max_retries = base, cap, max_retries
        self._stable_after = stable_after or (lambda: max(self._base(), 10.0))
        self._clock, self._random, self._growth = clock, random, growth
        self.attempt = 0  # consecutive attempts since the last stable link, for max_retries
        self._failing_since: float | None = None
        self._connected_at: float | None = None

    def window(self) -> float:
        """The upper bound of the jitter window now."""
        base, cap = max(self._base(), 0.0), max(self._cap(), 0.0)
        failing_for = 0.0 if self._failing_since is None else self._clock() - self._failing_since
        return min(cap, max(base, self._growth * failing_for))

    def next_delay(self) -> float | None:
        """The delay before the next attempt, or ``None`` when ``max_retries`` attempts were spent."""
        limit = self._max_retries()
        if limit is not None and self.attempt >= limit:
            return None
        if self._failing_since is None:
            self._failing_since = self._clock()
        self.attempt += 1
        return self._random() * self.window()

    def connected(self) -> None:
        """A connection (and registration) succeeded; remember when, to judge its stability on drop."""
        self._connected_at = self._clock()

    def dropped(self) -> None:
        """The connection ended; it ends the failing period only if it had been stable."""
        if self._connected_at is not None and self._clock() - self._connected_at >= self._stable_after():
            self.reset()
        self._connected_at = None

    def reset(self) -> None:
        self.attempt = 0
        self._failing_since = None
        self._connected_at = None


class RetryDelay:
    """Delays between retries of refused requests: ``first · 2ⁿ`` capped at ``cap()``, each drawn from the
    upper half of that window (some jitter, never a hot loop). :meth:`reset` when the backend answers again."""

    def __init__(self, cap: Callable[[], float], first: float = 0.1,
                 random: Callable[[], float] = _random.random) -> None:
        self._cap, self._first, self._random = cap, first, random
        self.failures = 0

    def next_delay(self) -> float:
        window = min(max(self._cap(), 0.0), self._first * 2.0 ** min(self.failures, 62))
        self.failures += 1
        return window * (0.5 + 0.5 * self._random())

    def reset(self) -> None:
        self.failures = 0
