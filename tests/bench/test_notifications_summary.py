"""The notifications comparison's summary (bench/scenarios/notifications.py): the variants are compared at the
highest rate every ladder passed, with each figure's spread over the repeats. Built from ladders shaped as
``step_up`` returns them, so no deployment is needed to check the arithmetic the report quotes."""

from __future__ import annotations

from typing import Any

from bench.scenarios.notifications import summarize


def step(rate: float, ok: bool, p99: float, cpu: dict[str, float]) -> dict[str, Any]:
    return {"offered_rate": rate, "ok": ok, "send_to_receive_ms": {"p50": p99 / 3, "p99": p99},
            "cpu_s_per_1000_msgs": cpu, "other_cpu_cores": 0.1}


def run(variant: str, repeat: int, steps: list[dict[str, Any]]) -> dict[str, Any]:
    passed = [s["offered_rate"] for s in steps if s["ok"]]
    return {"variant": variant, "repeat": repeat, "steps": steps, "max_rate": max(passed) if passed else None}


def test_variants_are_compared_at_the_highest_rate_all_passed() -> None:
    runs = [
        run("off", 1, [step(500, True, 20, {"edge-1": 0.8, "nats": 0.1}), step(1000, True, 40, {"edge-1": 0.6})]),
        run("fcm", 1, [step(500, False, 150, {"edge-1": 9.0}), step(500, True, 30,
                                                                      {"edge-1": 1.0, "notifications": 0.4}),
                       step(1000, False, 200, {"edge-1": 0.7})]),
        run("off", 2, [step(500, True, 24, {"edge-1": 0.6, "nats": 0.3}), step(1000, True, 45, {"edge-1": 0.5})]),
    ]
    summary = summarize(runs)
    assert summary["common_rate"] == 500
    off, fcm = summary["variants"]["off"], summary["variants"]["fcm"]
    assert off["max_rate"] == [1000, 1000] and fcm["max_rate"] == [500]
    assert off["e2e_p99_ms"] == {"mean": 22.0, "min": 20, "max": 24}
    assert off["cpu_s_per_1000_msgs"]["edge"] == {"mean": 0.7, "min": 0.6, "max": 0.8}
    assert off["cpu_s_per_1000_msgs"]["nats"] == {"mean": 0.2, "min": 0.1, "max": 0.3}
    # The passing retry at the common rate counts, not the failed attempt before it.
    assert fcm["cpu_s_per_1000_msgs"] == {"edge": {"mean": 1.0, "min": 1.0, "max": 1.0},
                                          "notifications": {"mean": 0.4, "min": 0.4, "max": 0.4}}
    assert "no-provider" not in summary["variants"]
