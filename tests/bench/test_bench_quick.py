"""CI runs the benchmarks the way a person would: ``python -m bench all --quick`` as a subprocess. It checks
the whole path works end to end and that nothing was lost or duplicated; it asserts no timing (CI machines are
shared, timings there are noise)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
def test_bench_all_quick_loses_nothing(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "all", "--quick", "--log-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=220,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr[-4000:]}"
    doc = json.loads(proc.stdout)
    assert "error" not in doc, doc["error"]
    assert doc["throughput"]["lost"] == 0 and doc["throughput"]["duplicates"] == 0
    assert doc["throughput"]["server_disconnected"] == 0
    for mode, relay in doc["baseline"].items():
        assert relay["lost"] == 0 and relay["duplicates"] == 0, mode
    assert doc["offline"]["lost"] == 0 and doc["offline"]["duplicates"] == 0
    assert doc["fanout"]["lost_deliveries"] == 0 and doc["fanout"]["duplicates"] == 0
    assert all(level["failed"] == 0 for level in doc["sockets"]["edge"]["levels"])
    failed = [c for c in doc["checks"] if c["ok"] is False and any(w in c["name"] for w in ("lost", "dup"))]
    assert not failed, failed
