"""``throughput`` and ``baseline``: customer↔agent pairs, open loop, the offered rate stepped up until delivery
falls behind. The same procedure runs against the real system and against the bare relay, so their ratio
means something.

A step passes when ≥ 99.9 % of its messages arrived within the drain window and send→receive p99 ≤ 100 ms.
After the first failing step, one more step at half the best rate gives the latencies the targets speak of.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from bench import profile
from bench.context import Context
from bench.launcher import BenchSystem, RelayProcess, metric_sum
from bench.loadgen import LoadGenerator, PairSpec, UserSpec, split
from bench.report import Check, ratio
from bench.stats import CpuMeter, mysql_pid, per_thousand, percentiles, wait_quiet

DELIVERY_FLOOR = 0.999
P99_CEILING_S = 0.100
SATURATED = 0.90
QUIET_CORES = 0.3  # CPU taken by processes that are not ours, above which a step counts as disturbed
IDLE_CORES = 0.2  # CPU of the system under test (and MySQL) below which it has drained the previous step
MAX_ATTEMPTS = 3
AGENT_ID_BASE = 1_000_000


def make_pairs(count: int, url_for: Any, token_for: Any, first_user: int = 1, deflate: bool = False,
               push_tokens: bool = False) -> list[PairSpec]:
    """``url_for(i, role)`` and ``token_for(user_id, role)`` let the caller place sockets on edges and mint
    tokens (real JWTs for the system, anything for the relay); ``deflate``: the sockets offer it;
    ``push_tokens``: each customer's device holds an FCM token, as the mobile app registers one while it is open
    (agents work in the web console, without push)."""
    pairs = []
    for i in range(count):
        cid, aid = first_user + i, AGENT_ID_BASE + first_user + i
        customer = UserSpec(cid, "user", token_for(cid, "user"), url_for(i, "user"), deflate=deflate,
                            push_token=f"bench-fcm-{cid}" if push_tokens else "")
        pairs.append(PairSpec(customer,
                              UserSpec(aid, "agent", token_for(aid, "agent"), url_for(i, "agent"), deflate=deflate)))
    return pairs


def summarize(rate: float, replies: Sequence[Mapping[str, Any]], cpu: Mapping[str, float]) -> dict[str, Any]:
    sent = sum(r["sent"] for r in replies)
    received = sum(r["received"] for r in replies)
    ack = [x for r in replies for x in r["ack_s"]]
    e2e = [x for r in replies for x in r["e2e_s"]]
    send_wall = max(r["send_wall_s"] for r in replies)
    delivered = received / sent if sent else 0.0
    e2e_pct, ack_pct = percentiles(e2e), percentiles(ack)
    p99 = e2e_pct["p99"]
    saturated = [f"gen-{r['worker']}" for r in replies if r["wall_s"] and r["cpu_s"] / r["wall_s"] >= SATURATED]
    return {
        "offered_rate": rate, "sent": sent, "received": received, "delivered_ratio": round(delivered, 5),
        "achieved_rate": round(sent / send_wall, 1) if send_wall else None,
        "rejected": sum(r["rejected"] for r in replies), "late_from_earlier_steps": sum(r["late"] for r in replies),
        "ack_ms": ack_pct, "send_to_receive_ms": e2e_pct,
        "cpu_s": dict(cpu), "cpu_s_per_1000_msgs": per_thousand(cpu, sent),
        "other_cpu_cores": round(cpu.get("other", 0.0) / max(r["wall_s"] for r in replies), 2),
        "generator": {f"gen-{r['worker']}": {"cpu_util": round(r["cpu_s"] / r["wall_s"], 3) if r["wall_s"] else None,
                                             "max_schedule_lag_ms": round(r["max_lag_s"] * 1000, 1)}
                      for r in replies},
        "generator_saturated": saturated,
        "ok": delivered >= DELIVERY_FLOOR and p99 is not None and p99 <= P99_CEILING_S * 1000,
    }


async def step_up(ctx: Context, pairs: list[PairSpec], server_pids: Mapping[str, int], label: str,
                  profile_pids: Mapping[str, int] | None = None) -> dict[str, Any]:
    """Set up the pairs on a fresh generator, step the rate, measure at half the best, settle, count losses;
    with ``profile_pids`` and ``--profile-seconds``, one more step at 80 % of the best under py-spy."""
    opts = ctx.options
    gen = LoadGenerator(opts.workers)
    try:
        setup = await gen.ask("pairs_setup", per_worker=[{"pairs": c} for c in split(pairs, opts.workers)],
                              heartbeat_interval=opts.heartbeat_interval_s)
        meter = CpuMeter({**server_pids, **gen.pids})
        steps: list[dict[str, Any]] = []
        best: dict[str, Any] | None = None
        for rate in opts.rates:
            steps.extend(await _attempts(ctx, gen, meter, rate, label))
            if not steps[-1]["ok"]:
                break
            best = steps[-1]
        await _settle(gen, 20.0)  # an overloaded last step leaves a backlog: let it drain before measuring
        half = None
        if best is not None:
            half = (await _attempts(ctx, gen, meter, best["offered_rate"] / 2, f"{label} @half"))[-1]
        profiles = None
        if best is not None and profile_pids and opts.profile_seconds > 0:
            profiles = await _profiled_step(ctx, gen, meter, best["offered_rate"] * 0.8, profile_pids)
        final = await _settle(gen, 30.0 if not opts.quick else 10.0)
        return {
            "profile": profiles,
            "pairs": len(pairs), "workers": opts.workers,
            "setup_s": round(max(s["elapsed_s"] for s in setup), 2),
            "register_retries": sum(s["register_retries"] for s in setup),
            "max_rate": best["offered_rate"] if best else None,
            "at_max": best, "at_half_max": half, "steps": steps,
            "lost": sum(f["lost"] for f in final), "duplicates": sum(f["duplicates"] for f in final),
            "unacked": sum(f["unacked"] for f in final), "rejected_total": sum(f["rejected"] for f in final),
            "unknown_received": sum(f["unknown"] for f in final),
            "server_disconnected": sum(f["server_disconnected"] for f in final),
        }
    finally:
        await gen.close()


async def _attempts(ctx: Context, gen: LoadGenerator, meter: CpuMeter, rate: float,
                    label: str) -> list[dict[str, Any]]:
    """One step at ``rate``, tried again after the backlog drained if it fails: on a shared machine a step can
    lose its CPU to someone else's job. Once more if the machine was quiet, up to MAX_ATTEMPTS if not."""
    opts, tried = ctx.options, []
    for attempt in range(1 if opts.quick else MAX_ATTEMPTS):
        if not opts.quick:
            await wait_quiet(meter.pids, QUIET_CORES, max_own_cores=IDLE_CORES)
        tried.append(await _step(gen, meter, rate, opts.workers, opts.step_s, opts.drain_s))
        _log(label if attempt == 0 else f"{label} retry {attempt}", tried[-1])
        if tried[-1]["ok"] or (attempt >= 1 and tried[-1]["other_cpu_cores"] < QUIET_CORES):
            break
        await _settle(gen, 20.0)
    return tried


async def _step(gen: LoadGenerator, meter: CpuMeter, rate: float, workers: int, duration: float,
                drain: float) -> dict[str, Any]:
    meter.start()
    replies = await gen.ask("run_step", rate=rate / workers, duration=duration, drain=drain,
                            timeout=duration + drain + 60)
    return summarize(rate, replies, meter.stop())


async def _profiled_step(ctx: Context, gen: LoadGenerator, meter: CpuMeter, rate: float,
                         pids: Mapping[str, int]) -> dict[str, Any]:
    opts = ctx.options
    seconds = opts.profile_seconds
    recording = asyncio.create_task(profile.record(pids, seconds, ctx.log_dir / "profiles"))
    await asyncio.sleep(0.5)  # py-spy attached before the load starts
    step = await _step(gen, meter, rate, opts.workers, seconds, opts.drain_s)
    _log("e2e @profile", step)
    files = await recording
    return {"rate": rate, "seconds": seconds, "step": {k: step[k] for k in ("delivered_ratio", "cpu_s_per_1000_msgs")},
            "processes": {name: profile.summarize(path) for name, path in files.items()}}


async def _settle(gen: LoadGenerator, timeout: float) -> list[dict[str, Any]]:
    return await gen.ask("settle", timeout=timeout + 30, within=timeout)


def _log(label: str, step: Mapping[str, Any]) -> None:
    e2e, saturated = step["send_to_receive_ms"], step["generator_saturated"]
    sys.stderr.write(f"[{label}] offered {step['offered_rate']:>7.0f}/s  delivered {step['delivered_ratio']:.4f}  "
                     f"e2e p50 {e2e['p50']} p99 {e2e['p99']} ms  others {step['other_cpu_cores']} cores  "
                     f"{'ok' if step['ok'] else 'FAIL'}"
                     f"{'  generator saturated: ' + ','.join(saturated) if saturated else ''}\n")


# ---- the scenarios -------------------------------------------------------------------------------------------
async def run_e2e(ctx: Context, system: BenchSystem | None = None, label: str = "e2e") -> dict[str, Any]:
    """The ladder against ``system`` (the run's shared one unless given)."""
    system = system or await ctx.system()
    edge = system.edges[0]
    pairs = make_pairs(ctx.options.pairs, lambda i, role: edge.ws_url, system.token, first_user=1,
                       deflate=ctx.options.deflate, push_tokens=system.push_tokens)
    python_pids = {name: pid for name, pid in system.pids.items()
                   if name in (edge.node_id, "messaging", "devices", "notifications")}
    mysql = mysql_pid()
    pids = {**system.pids, **({"mysql (shared)": mysql} if mysql else {})}
    result = await step_up(ctx, pairs, pids, label, profile_pids=python_pids)
    result["notifications"] = notification_decisions(system)
    return result


def notification_decisions(system: BenchSystem) -> dict[str, float] | None:
    """What the notifications service decided for the messages it read (scheduled, no_push_device, ...), from its
    /metrics: the evidence that it did the work measured. ``None`` when it does not run."""
    service = system.services.get("notifications")
    if service is None:
        return None
    found = {}
    for decision in ("scheduled", "no_push_device", "unreadable"):
        found[decision] = metric_sum(service.http_port, "switchboard_notifications_messages_total",
                                     f'decision="{decision}"')
    found["skipped"] = metric_sum(service.http_port, "switchboard_notifications_skipped_total")
    found["pushed"] = metric_sum(service.http_port, "switchboard_notifications_pushes_total")
    # Devices lookups it caused (edges call ListDevices only for a client's list_devices or kick_device, which
    # the bench never sends): the intake's per-recipient calls and the sender's checks when a push is due.
    found["devices_list_calls"] = metric_sum(system.services["devices"].http_port,
                                             "switchboard_grpc_server_handled_total", "ListDevices")
    return found


async def run_relay(ctx: Context, mode: str) -> dict[str, Any]:
    relay = RelayProcess(mode, ctx.log_dir)
    await relay.start()
    try:
        pairs = make_pairs(ctx.options.pairs, lambda i, role: relay.url, lambda uid, role: f"relay-{uid}",
                           deflate=ctx.options.deflate)
        return await step_up(ctx, pairs, {f"relay-{mode}": relay.pid}, f"relay-{mode}")
    finally:
        await relay.stop()


def throughput_checks(e2e: Mapping[str, Any] | None, relays: Mapping[str, Mapping[str, Any]]) -> list[Check]:
    checks: list[Check] = []
    for mode, result in relays.items():
        checks.append(Check(f"relay {mode}: max rate", result["max_rate"], unit="msg/s"))
    if e2e is None:
        return checks + [Check(f"relay {m}: lost+dup", r["lost"] + r["duplicates"], "0",
                               r["lost"] + r["duplicates"] == 0) for m, r in relays.items()]
    checks.append(Check("e2e: max rate (≥99.9% delivered, p99 ≤ 100 ms)", e2e["max_rate"], unit="msg/s"))
    for mode, result in relays.items():
        r = ratio(e2e["max_rate"], result["max_rate"])
        checks.append(Check(f"e2e / relay {mode}", r, "≥ 0.5", None if r is None else r >= 0.5))
    half = e2e.get("at_half_max")
    if half:
        lat = half["send_to_receive_ms"]
        checks.append(Check("e2e send→receive p50 @ half max", lat["p50"], "< 10", _lt(lat["p50"], 10), "ms"))
        checks.append(Check("e2e send→receive p99 @ half max", lat["p99"], "< 50", _lt(lat["p99"], 50), "ms"))
        checks.append(Check("e2e sender-ack p99 @ half max", half["ack_ms"]["p99"], unit="ms"))
        if half["generator_saturated"]:
            checks.append(Check("generator saturated @ half max", ",".join(half["generator_saturated"]), "none",
                                False))
    gone = e2e.get("server_disconnected", 0)
    checks.append(Check("e2e sockets failed (closed by the server)", gone, "0", gone == 0))
    checks.append(Check("e2e lost", e2e["lost"], "0", e2e["lost"] == 0))
    checks.append(Check("e2e duplicates", e2e["duplicates"], "0", e2e["duplicates"] == 0))
    return checks


def _lt(value: float | None, limit: float) -> bool | None:
    return None if value is None else value < limit


async def scenario_throughput(ctx: Context) -> tuple[dict[str, Any], list[Check]]:
    e2e = await run_e2e(ctx)
    return {"throughput": e2e}, throughput_checks(e2e, {})


async def scenario_baseline(ctx: Context, with_e2e: bool = True) -> tuple[dict[str, Any], list[Check]]:
    relays = {}
    for mode in ctx.options.relay_modes:
        relays[mode] = await run_relay(ctx, mode)
        await asyncio.sleep(0.5)
    e2e = await run_e2e(ctx) if with_e2e else None
    doc: dict[str, Any] = {"baseline": relays}
    if e2e is not None:
        doc["throughput"] = e2e
        doc["ratio"] = {mode: ratio(e2e["max_rate"], r["max_rate"]) for mode, r in relays.items()}
    return doc, throughput_checks(e2e, relays)
