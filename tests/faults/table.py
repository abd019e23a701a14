"""The fault suite's table: one row per scenario, with what it ran on, as Markdown (README-ready)."""

from __future__ import annotations

import datetime
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.faults.checks import Verdict
from tests.faults.driver import REPO, url_list_supported
from tests.faults.scenarios import Mode


def commit() -> str:
    """The commit the run measured, marked ``+dirty`` when the working tree differs from it. An exported tree
    (``git archive``, no ``.git``) names its commit in ``SWITCHBOARD_FAULTS_COMMIT``."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()
    if not (REPO / ".git").exists():
        return os.environ.get("SWITCHBOARD_FAULTS_COMMIT", "?")
    return git("rev-parse", "--short", "HEAD") + ("+dirty" if git("status", "--porcelain", "--untracked-files=no")
                                                  else "")


def render(verdicts: Sequence[Verdict], mode: Mode) -> str:
    plan = mode.plan
    lines = [
        f"Fault suite, {mode.name} mode, {datetime.date.today().isoformat()}: "
        f"{plan.pairs} conversations (+1 in the client scenario), {plan.second_devices} customers with a second "
        f"device (one away for the last {plan.laggard_away} s), one message per device every {plan.interval} s, "
        f"{plan.bouncers} devices reconnecting on their own, outage {mode.outage} s, "
        f"SDK edge list {'on' if url_list_supported() else 'OFF (first URL only)'}.",
        "",
        "| " + " | ".join(Verdict.COLUMNS) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(Verdict.COLUMNS))) + "|",
        *("| " + " | ".join(v.row()) + " |" for v in verdicts),
    ]
    offenders = [(v.scenario, d) for v in verdicts for d in v.details]
    if offenders:
        lines += ["", "Offenders (first of each kind):", *(f"- {scenario}: {d}" for scenario, d in offenders)]
    return "\n".join(lines)


def write_table(verdicts: Sequence[Verdict], mode: Mode, path: Path) -> str:
    text = render(verdicts, mode)
    path.write_text(text + "\n")
    return text
