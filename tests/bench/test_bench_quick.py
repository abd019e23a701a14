"""CI runs the benchmarks the way a person would: ``python -m bench all --quick`` as a subprocess, with the
notifications service and its FCM provider in the deployment (``--notifications fcm``, the heaviest variant of
#14's comparison). It checks the whole path works end to end and that nothing was lost or duplicated; it asserts
no timing (CI machines are shared, timings there are noise)."""

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
        [sys.executable, "-m", "bench", "all", "--quick", "--notifications", "fcm", "--log-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=220,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr[-4000:]}"
    doc = json.loads(proc.stdout)
    assert "error" not in doc, doc["error"]
    assert doc["throughput"]["lost"] == 0 and doc["throughput"]["duplicates"] == 0
    assert doc["throughput"]["server_disconnected"] == 0
    _check_notifications(doc["throughput"])
    for mode, relay in doc["baseline"].items():
        assert relay["lost"] == 0 and relay["duplicates"] == 0, mode
    assert doc["offline"]["lost"] == 0 and doc["offline"]["duplicates"] == 0
    assert doc["fanout"]["lost_deliveries"] == 0 and doc["fanout"]["duplicates"] == 0
    assert all(level["failed"] == 0 for level in doc["sockets"]["edge"]["levels"])
    _check_compression(doc)
    failed = [c for c in doc["checks"] if c["ok"] is False and any(w in c["name"] for w in ("lost", "dup"))]
    assert not failed, failed


def _check_compression(doc: dict) -> None:
    """The lean client offers deflate as browsers do and the edge answers per its setting; compression is real:
    a 4 KB message costs fewer bytes compressed than not, and every message arrived once."""
    by_mode = doc["sockets"]["compression"]
    default = doc["compression"]["after"]
    assert by_mode[default]["plain"]["negotiated"] == ""
    assert by_mode[default]["deflate"]["negotiated"].startswith("permessage-deflate; server_no_context_takeover")
    assert all(level["failed"] == 0 for pair in by_mode.values() for run in pair.values() for level in run["levels"])
    wire = doc["compression"]["modes"]
    assert wire["off"]["negotiated"] == ""
    assert "server_no_context_takeover" not in wire["context_takeover"]["negotiated"]
    for mode, result in wire.items():
        assert result["duplicates"] == 0 and all(result[str(size)]["complete"] for size in (100, 4096)), mode
    big = {mode: result["4096"]["wire_bytes_per_message"] for mode, result in wire.items()}
    assert big["no_context_takeover"] < big["off"] / 2 and big["context_takeover"] < big["off"] / 2, big


def _check_notifications(throughput: dict) -> None:
    """The service ran beside the measured processes (its CPU is measured) and did the work measured: the bench
    customers' push tokens made their incoming messages scheduled pushes, the agents' (no token) none."""
    assert all("notifications" in step["cpu_s"] for step in throughput["steps"])
    decided = throughput["notifications"]
    assert decided["scheduled"] > 0 and decided["no_push_device"] > 0, decided
    assert decided["unreadable"] == 0, decided
