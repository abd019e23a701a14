"""``notifications``: what the notifications service costs the message path (#14).

The service is off the path by design (it reads the inbox stream after messaging acknowledged the sender), but
every stored message is one more JetStream delivery and ack to nats-server and, with a provider configured, a
devices call per recipient and an upsert of push rows in MySQL, then the sender's claim of each row when it is
due. Those compete for the same two cores. So the throughput ladder runs on a fresh deployment per variant —
without the service, with it and no provider, with FCM configured and customers holding push tokens
(launcher.NOTIFICATIONS) — interleaved and repeated (``--repeats``), after the ASGI relay's ladder as the run's
reference. Fresh deployments: each variant starts from empty tables and an empty stream, as the others did.

The summary compares the variants at the highest offered rate every ladder passed (the same load for all, so
CPU per message and latency are comparable), and gives each variant's maximum and spread over its repeats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.context import Context
from bench.launcher import NOTIFICATIONS, NOTIFICATIONS_OFF, BenchSystem
from bench.report import Check
from bench.scenarios.throughput import run_e2e, run_relay


async def scenario_notifications(ctx: Context) -> tuple[dict[str, Any], list[Check]]:
    relay = await run_relay(ctx, "asgi")
    runs: list[dict[str, Any]] = []
    for repeat in range(1, ctx.options.repeats + 1):
        for variant in NOTIFICATIONS:
            log_dir = ctx.log_dir / f"notifications-{variant}-{repeat}"
            log_dir.mkdir(parents=True, exist_ok=True)
            async with BenchSystem(log_dir, edges=1, notifications=variant) as system:
                result = await run_e2e(ctx, system, label=f"e2e notifications={variant} #{repeat}")
            runs.append({"variant": variant, "repeat": repeat, **result})
    summary = summarize(runs)
    doc = {"notifications": {"relay_asgi": relay, "runs": runs, "summary": summary}}
    return doc, checks(runs, summary, relay)


def _passed_rates(run: Mapping[str, Any]) -> set[float]:
    return {step["offered_rate"] for step in run["steps"] if step["ok"]}


def _step_at(run: Mapping[str, Any], rate: float) -> Mapping[str, Any]:
    """The passing attempt at ``rate`` (a rate can have a failed attempt before a passing retry)."""
    return next(step for step in run["steps"] if step["offered_rate"] == rate and step["ok"])


def summarize(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Per variant: max rates, and at the common rate p50/p99 and CPU s per 1,000 messages per process, each as
    the mean of the repeats with the [min, max] spread."""
    common = set.intersection(*(_passed_rates(r) for r in runs)) if runs else set()
    rate = max(common) if common else None
    out: dict[str, Any] = {"common_rate": rate, "variants": {}}
    for variant in NOTIFICATIONS:
        mine = [r for r in runs if r["variant"] == variant]
        if not mine:
            continue
        entry: dict[str, Any] = {"max_rate": [r["max_rate"] for r in mine]}
        if rate is not None:
            steps = [_step_at(r, rate) for r in mine]
            entry["e2e_p50_ms"] = _spread([s["send_to_receive_ms"]["p50"] for s in steps])
            entry["e2e_p99_ms"] = _spread([s["send_to_receive_ms"]["p99"] for s in steps])
            names = sorted({name for s in steps for name in s["cpu_s_per_1000_msgs"]} - {"other"})
            entry["cpu_s_per_1000_msgs"] = {
                _process(name): _spread([s["cpu_s_per_1000_msgs"].get(name) or 0.0 for s in steps])
                for name in names if not name.startswith("gen-")}
            entry["other_cpu_cores"] = [s["other_cpu_cores"] for s in steps]
        out["variants"][variant] = entry
    return out


def _process(name: str) -> str:
    """``edge-1`` → ``edge``: one edge in every variant, named alike in the table."""
    return "edge" if name.startswith("edge-") else name


def _spread(values: Sequence[float | None]) -> dict[str, float | None]:
    known = [v for v in values if v is not None]
    if not known:
        return {"mean": None, "min": None, "max": None}
    return {"mean": round(sum(known) / len(known), 3), "min": min(known), "max": max(known)}


def checks(runs: Sequence[Mapping[str, Any]], summary: Mapping[str, Any], relay: Mapping[str, Any]) -> list[Check]:
    found = [Check("relay asgi: max rate", relay["max_rate"], unit="msg/s")]
    for run in runs:
        tag = f"notifications={run['variant']} #{run['repeat']}"
        found.append(Check(f"e2e {tag}: max rate", run["max_rate"], unit="msg/s"))
        found.append(Check(f"e2e {tag}: lost", run["lost"], "0", run["lost"] == 0))
        found.append(Check(f"e2e {tag}: duplicates", run["duplicates"], "0", run["duplicates"] == 0))
        gone = run["server_disconnected"]
        found.append(Check(f"e2e {tag}: sockets failed", gone, "0", gone == 0))
        if run["variant"] != NOTIFICATIONS_OFF:
            # The service ran and read the messages; with a provider, customers' messages were scheduled.
            decided = run["notifications"] or {}
            seen = decided.get("scheduled", 0) + decided.get("no_push_device", 0)
            found.append(Check(f"e2e {tag}: messages the service decided on", int(seen)))
    rate = summary["common_rate"]
    for variant, entry in summary["variants"].items():
        if rate is not None:
            found.append(Check(f"{variant} @ {rate:.0f}/s: send→receive p99 (mean of repeats)",
                               entry["e2e_p99_ms"]["mean"], unit="ms"))
    return found
