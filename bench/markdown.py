"""Render a run's JSON document as the Markdown tables of bench/RESULTS.md, so the file is regenerated from a
run rather than retyped: ``python -m bench all > run.json; python -m bench.markdown run.json``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def checks(doc: Mapping[str, Any]) -> str:
    verdict = {True: "✅", False: "❌ below target", None: ""}
    return _table(["figure", "value", "target", ""],
                  ([c["name"], f"{c['value']} {c['unit']}".strip(), c["target"], verdict[c["ok"]]]
                   for c in doc.get("checks", [])))


def steps(title: str, result: Mapping[str, Any]) -> str:
    rows = []
    for s in result.get("steps", []):
        cpu = s["cpu_s_per_1000_msgs"]
        rows.append([s["offered_rate"], s["delivered_ratio"], s["ack_ms"]["p50"], s["ack_ms"]["p99"],
                     s["send_to_receive_ms"]["p50"], s["send_to_receive_ms"]["p90"], s["send_to_receive_ms"]["p99"],
                     ", ".join(f"{k} {v}" for k, v in cpu.items() if v), s["other_cpu_cores"],
                     "yes" if s["ok"] else "no"])
    return f"#### {title}\n\n" + _table(
        ["offered msg/s", "delivered", "ack p50 ms", "ack p99 ms", "e2e p50 ms", "e2e p90 ms", "e2e p99 ms",
         "CPU s / 1,000 msgs", "other procs (cores)", "pass"], rows)


def profile(result: Mapping[str, Any], top: int = 10) -> str:
    prof = result.get("profile")
    if not prof:
        return ""
    out = [f"Profile at {prof['rate']:.0f} msg/s for {prof['seconds']:.0f} s (py-spy, 200 Hz; % of samples in "
           "Python code, loop/native waits excluded):\n"]
    for name, summary in prof["processes"].items():
        if not summary.get("python_samples"):
            continue
        out.append(f"**{name}** ({summary['python_samples']} samples in Python, "
                   f"{summary['python_fraction']:.0%} of all)\n")
        out.append(_table(["self %", "function"], ([e["percent"], f"`{e['function']}`"]
                                                   for e in summary["self"][:top])))
        out.append(_table(["inclusive %", "function"], ([e["percent"], f"`{e['function']}`"]
                                                        for e in summary["inclusive"][:top])))
    return "\n".join(out)


def render(doc: Mapping[str, Any]) -> str:
    parts = [f"Commit `{doc['machine']['commit']}`, {doc['machine']['cpus']} CPUs, "
             f"{doc['machine']['memory_gib']} GiB, Python {doc['machine']['python']}; run took "
             f"{doc.get('elapsed_s')} s.\n", checks(doc)]
    for mode, result in (doc.get("baseline") or {}).items():
        parts.append(steps(f"bare relay, {mode}", result))
    if doc.get("throughput"):
        parts.append(steps("Switchboard end to end", doc["throughput"]))
        parts.append(profile(doc["throughput"]))
    return "\n".join(p for p in parts if p)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.markdown", description=__doc__)
    parser.add_argument("run", type=Path, help="a JSON document printed by python -m bench")
    args = parser.parse_args(argv)
    print(render(json.loads(args.run.read_text())))


if __name__ == "__main__":
    main()
