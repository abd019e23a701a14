"""The reconnect schedule and the short retry of refused requests, with a controllable clock and random source
(no sleeping)."""

from __future__ import annotations

import random

from client.backoff import Backoff, RetryDelay


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(rand: float = 1.0, base: float = 1.0, cap: float = 60.0, max_retries: int | None = None,
         clock: Clock | None = None, stable_after: float = 10.0) -> Backoff:
    return Backoff(lambda: base, lambda: cap, lambda: max_retries, stable_after=lambda: stable_after,
                   clock=clock or Clock(), random=lambda: rand)


def failing(backoff: Backoff, clock: Clock, seconds: float) -> list[float]:
    """Attempts that fail at once for ``seconds``; the delays drawn."""
    delays: list[float] = []
    end = clock.now + seconds
    while clock.now < end:
        delay = backoff.next_delay()
        assert delay is not None
        delays.append(delay)
        clock.now += delay
    return delays


def test_the_window_grows_with_the_time_spent_failing_up_to_the_cap() -> None:
    clock = Clock()
    backoff = make(rand=1.0, base=1.0, cap=60.0, clock=clock)
    assert backoff.next_delay() == 1.0
    clock.now += 4
    assert backoff.next_delay() == 2.0
    clock.now += 16
    assert backoff.next_delay() == 10.0
    clock.now += 1000
    assert backoff.next_delay() == 60.0


def test_back_within_half_the_outage_after_the_server_is() -> None:
    """Whatever the draws, the attempt after a ≤ 10 s outage comes ≤ 5 s after the server is back."""
    for seed in range(200):
        rng = random.Random(seed)
        clock = Clock()
        backoff = Backoff(lambda: 1.0, lambda: 60.0, clock=clock, random=rng.random)
        outage = rng.uniform(0, 10)
        start = clock.now
        failing(backoff, clock, outage)
        assert clock.now - (start + outage) <= max(1.0, outage / 2) + 1e-9


def test_a_crash_loop_still_thins_out() -> None:
    """A server that accepts and drops us at once: links never become stable, the window keeps growing."""
    clock = Clock()
    backoff = make(rand=1.0, clock=clock)
    for _ in range(30):
        delay = backoff.next_delay()
        assert delay is not None
        clock.now += delay
        backoff.connected()
        clock.now += 0.1
        backoff.dropped()
    assert backoff.window() == 60.0


def test_a_stable_link_ends_the_failing_period() -> None:
    clock = Clock()
    backoff = make(clock=clock, stable_after=10.0)
    failing(backoff, clock, 100)
    backoff.connected()
    clock.now += 30
    backoff.dropped()
    assert backoff.attempt == 0 and backoff.next_delay() == 1.0


def test_jittered_delays_stay_within_the_window() -> None:
    rng = random.Random(7)
    clock = Clock()
    backoff = Backoff(lambda: 0.5, lambda: 5.0, clock=clock, random=rng.random)
    delays = failing(backoff, clock, 200)
    assert all(0 <= d <= 5.0 for d in delays)
    assert max(delays) > 4.0  # the cap is reached, not just approached


def test_unlimited_by_default_and_limited_when_asked() -> None:
    assert all(make().next_delay() is not None for _ in range(1000))
    limited = make(max_retries=3)
    assert [limited.next_delay() is not None for _ in range(4)] == [True, True, True, False]


def test_settings_changed_at_runtime_apply_to_the_next_delay() -> None:
    settings = {"base": 1.0, "cap": 60.0}
    backoff = Backoff(lambda: settings["base"], lambda: settings["cap"], random=lambda: 1.0, clock=Clock())
    assert backoff.next_delay() == 1.0
    settings["base"] = 5.0
    assert backoff.next_delay() == 5.0
    settings["cap"] = 3.0
    assert backoff.next_delay() == 3.0


def test_retry_delay_is_short_jittered_capped_and_reset() -> None:
    delay = RetryDelay(lambda: 2.0, first=0.1, random=lambda: 1.0)
    assert [round(delay.next_delay(), 3) for _ in range(8)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]
    delay.reset()
    assert delay.next_delay() == 0.1
    low = RetryDelay(lambda: 2.0, first=0.1, random=lambda: 0.0)
    assert low.next_delay() == 0.05  # never zero: no hot loop against a refusing server
    huge = RetryDelay(lambda: 2.0)
    huge.failures = 10_000
    assert huge.next_delay() <= 2.0
