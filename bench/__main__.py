"""``python -m bench <scenario> [--quick] [...]`` (also ``switchboard bench ...``): start the system as in
production, drive it with the lean generator, print one JSON document on stdout and a table on stderr.

Exit status: 0 when the run completed and nothing was lost or duplicated; 1 on loss, duplicates, failed
sockets or an error. Timing targets never change the exit status (they are printed as verdicts): CI runs
``all --quick`` on shared machines, where timings are noise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.context import Context, Options
from bench.launcher import NOTIFICATIONS
from bench.report import Check, emit, machine

Scenario = Callable[[Context], Awaitable[tuple[dict[str, Any], list[Check]]]]
SCENARIOS = ("throughput", "baseline", "sockets", "compression", "offline", "fanout", "notifications", "all")
CORRECTNESS = ("lost", "duplicates", "failed")  # check names containing these decide the exit status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=SCENARIOS)
    parser.add_argument("--quick", action="store_true", help="small counts, under a minute: for CI")
    parser.add_argument("--relay-only", action="store_true",
                        help="baseline/sockets: measure only the bare relay (no Switchboard services)")
    parser.add_argument("--workers", type=int, help="generator processes (default 2)")
    parser.add_argument("--pairs", type=int, help="customer↔agent pairs (default 50)")
    parser.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], help="offered rates, msg/s")
    parser.add_argument("--step-seconds", type=float, dest="step_s")
    parser.add_argument("--sockets", type=lambda s: [int(x) for x in s.split(",")], dest="socket_levels",
                        help="idle socket levels, e.g. 1000,5000,10000")
    parser.add_argument("--heartbeat-interval", type=float, dest="heartbeat_interval_s",
                        help="seconds between a client's application heartbeats (default 30)")
    parser.add_argument("--backlog", type=int, help="offline messages (default 10000)")
    parser.add_argument("--relay-modes", type=lambda s: s.split(","), help="sanic,asgi")
    parser.add_argument("--profile-seconds", type=float, dest="profile_seconds",
                        help="throughput: profile edge/messaging/devices with py-spy for this long at 80%% of max")
    parser.add_argument("--deflate", action="store_true", default=None,
                        help="every bench socket offers permessage-deflate as browsers do (sockets and "
                             "compression measure both ways regardless)")
    parser.add_argument("--wire-messages", type=int, dest="wire_messages",
                        help="compression: messages per size and server setting (default 1000)")
    parser.add_argument("--notifications", choices=NOTIFICATIONS,
                        help="run the notifications service in the benched deployment: off (default), "
                             "no-provider, or fcm (a loopback FCM peer; bench customers hold push tokens)")
    parser.add_argument("--repeats", type=int,
                        help="notifications: ladders per variant, interleaved (default 2; 1 with --quick)")
    parser.add_argument("--log-dir", type=Path, help="service logs (default: a temporary folder)")
    return parser


def _scenarios(name: str, relay_only: bool) -> list[Scenario]:
    from bench.scenarios import compression, fanout, notifications, offline, sockets, throughput

    table: dict[str, list[Scenario]] = {
        "throughput": [throughput.scenario_throughput],
        "baseline": [lambda c: throughput.scenario_baseline(c, with_e2e=not relay_only)],
        "sockets": [lambda c: sockets.scenario_sockets(c, with_edge=not relay_only)],
        "compression": [compression.scenario_compression],
        "offline": [offline.scenario_offline],
        "fanout": [fanout.scenario_fanout],
        "notifications": [notifications.scenario_notifications],
    }
    table["all"] = table["baseline"] + table["sockets"] + table["compression"] + table["offline"] + table["fanout"]
    return table[name]


async def run(args: argparse.Namespace) -> int:
    overrides = {k: getattr(args, k) for k in ("workers", "pairs", "rates", "step_s", "socket_levels",
                                               "heartbeat_interval_s", "backlog", "relay_modes",
                                               "profile_seconds", "deflate", "wire_messages",
                                               "notifications", "repeats")}
    options = Options.for_run(args.quick, **overrides)
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    ctx = Context(options, log_dir)
    doc: dict[str, Any] = {"scenario": args.scenario, "quick": args.quick, "machine": machine(),
                           "options": vars(options), "log_dir": str(log_dir)}
    checks: list[Check] = []
    started = time.monotonic()
    status = 0
    try:
        for scenario in _scenarios(args.scenario, args.relay_only):
            part, part_checks = await scenario(ctx)
            doc.update(part)
            checks.extend(part_checks)
    except Exception as exc:
        doc["error"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc(file=sys.stderr)
        sys.stderr.write(f"service logs: {log_dir}\n")
        status = 1
    finally:
        await ctx.close()
    doc["elapsed_s"] = round(time.monotonic() - started, 1)
    if any(c.ok is False and any(word in c.name for word in CORRECTNESS) for c in checks):
        status = 1
    doc["exit_status"] = status
    emit(doc, checks)
    return status


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        import uvloop

        status = uvloop.run(run(args))
    except ImportError:
        status = asyncio.run(run(args))
    raise SystemExit(status)


if __name__ == "__main__":
    main(sys.argv[1:])
