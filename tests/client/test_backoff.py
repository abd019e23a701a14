"""The reconnect schedule, with a controllable clock and random source (no sleeping)."""

from __future__ import annotations

import pytest

from client.backoff import Backoff


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(rand: float = 1.0, base: float = 1.0, cap: float = 60.0, max_retries: int | None = None,
         clock: Clock | None = None, stable_after: float = 10.0) -> Backoff:
    return Backoff(lambda: base, lambda: cap, lambda: max_retries, stable_after=lambda: stable_after,
                   clock=clock or Clock(), random=lambda: rand)


def test_upper_bound_doubles_until_the_cap() -> None:
    backoff = make(rand=1.0, base=1.0, cap=60.0)
    assert [backoff.next_delay() for _ in range(9)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_full_jitter_spreads_over_the_whole_window() -> None:
    values = iter([0.0, 0.5, 0.25, 0.999])
    backoff = Backoff(lambda: 2.0, lambda: 100.0, random=lambda: next(values))
    assert [backoff.next_delay() for _ in range(4)] == [0.0, 2.0, 2.0, pytest.approx(15.984)]


def test_jittered_delays_never_exceed_the_cap() -> None:
    import random

    rng = random.Random(7)
    backoff = Backoff(lambda: 0.5, lambda: 5.0, random=rng.random)
    delays = [backoff.next_delay() for _ in range(200)]
    assert all(d is not None and 0 <= d <= 5.0 for d in delays)
    assert max(delays[20:]) > 4.0  # the cap is reached, not just approached


def test_unlimited_by_default_and_limited_when_asked() -> None:
    assert all(make().next_delay() is not None for _ in range(1000))
    limited = make(max_retries=3)
    assert [limited.next_delay() is not None for _ in range(4)] == [True, True, True, False]


def test_a_stable_connection_resets_the_exponent() -> None:
    clock = Clock()
    backoff = make(clock=clock, stable_after=10.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.connected()
    clock.now += 30
    backoff.dropped()
    assert backoff.next_delay() == 1.0


def test_a_connection_that_drops_at_once_keeps_backing_off() -> None:
    """A server that accepts and drops us must not get a reconnect storm."""
    clock = Clock()
    backoff = make(clock=clock, stable_after=10.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.connected()
    clock.now += 1
    backoff.dropped()
    assert backoff.next_delay() == 32.0


def test_settings_changed_at_runtime_apply_to_the_next_delay() -> None:
    settings = {"base": 1.0, "cap": 60.0}
    backoff = Backoff(lambda: settings["base"], lambda: settings["cap"], random=lambda: 1.0)
    assert backoff.next_delay() == 1.0
    settings["base"] = 5.0
    assert backoff.next_delay() == 10.0
    settings["cap"] = 3.0
    assert backoff.next_delay() == 3.0


def test_huge_attempt_counts_do_not_overflow() -> None:
    backoff = make()
    backoff.attempt = 10_000
    assert backoff.next_delay() == 60.0
