"""Output of a run: one JSON document on stdout (for machines and RESULTS.md) and a table on stderr (for people).

Every headline figure is a :class:`Check` — value, target, verdict — so the table and the JSON say the same
thing and a reader never has to look a target up. ``None`` verdicts mean "measured, no target applies here".
"""

from __future__ import annotations

import dataclasses
import json
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil


@dataclasses.dataclass
class Check:
    name: str
    value: float | int | str | None
    target: str = ""
    ok: bool | None = None
    unit: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _git(*args: str) -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> dict[str, Any]:
    """Where and on what code the numbers were taken. Several people share this working tree, so the report
    says when the services measured differ from the commit (modified or not yet committed files)."""
    status = _git("status", "--porcelain", "--", "services", "switchboard").splitlines()
    return {
        "commit": _git("rev-parse", "--short", "HEAD") or "unknown",
        "services_modified_files": sum(not line.startswith("??") for line in status),
        "services_untracked_files": sum(line.startswith("??") for line in status),
        "python": platform.python_version(), "platform": platform.platform(), "cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
    }


def emit(doc: dict[str, Any], checks: list[Check]) -> None:
    doc = {**doc, "checks": [c.as_dict() for c in checks]}
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
    sys.stdout.flush()
    sys.stderr.write(table(checks))
    sys.stderr.flush()


def table(checks: list[Check]) -> str:
    rows = [("check", "value", "target", "")]
    for c in checks:
        value = f"{c.value:,.2f}" if isinstance(c.value, float) else f"{c.value:,}" if isinstance(c.value, int) \
            else str(c.value)
        verdict = {True: "ok", False: "BELOW TARGET", None: ""}[c.ok]
        rows.append((c.name, f"{value} {c.unit}".strip(), c.target, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n" + "\n".join(lines) + "\n"


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None
