"""Sampling profiles of the services under load with py-spy (a dev extra), summarised for the report: the
functions where each process spends its time (self) and the call paths that contain the most samples
(inclusive). Raw collapsed stacks are kept next to the logs for flame graphs (``py-spy`` / ``inferno``).
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# A sample whose innermost Python frame is the event loop's entry (uvloop runs in C below it) or a thread's
# run() is waiting in native code or inside uvloop itself: counted as "loop/native", not as Python work.
IDLE_FRAMES = ("select (selectors.py", "_run_once (asyncio/base_events.py", "Runner.run (asyncio/runners.py",
               "run_forever (asyncio/base_events.py", "poll (selectors.py", "_run_server_forever (sanic/",
               "Thread.run (threading.py", "Thread.wait (threading.py", "Condition.wait (threading.py")


# Frames every stack of a service passes through on its way to the event loop: in an inclusive list they
# would fill the top rows with 100 % and say nothing.
ENTRY_FRAMES = ("<module> (", "_run_code (", "_run_module_as_main (")
ENTRY_MODULES = ("switchboard/cli.py", "switchboard/__main__.py", "switchboard/http.py:", "/app.py:",
                 "sanic/mixins/", "sanic/server/runners.py", "sanic/worker/", "threading.py", "asyncio/runners.py",
                 "uvloop/")


def py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


async def record(pids: Mapping[str, int], seconds: float, out_dir: Path, rate: int = 200) -> dict[str, Path]:
    """Record every PID for ``seconds`` concurrently (call while load runs). Returns raw files by name."""
    binary = py_spy()
    if binary is None:
        raise FileNotFoundError("py-spy not installed: pip install py-spy (it is in the dev extra)")
    await asyncio.to_thread(out_dir.mkdir, parents=True, exist_ok=True)
    procs, files = [], {}
    for name, pid in pids.items():
        path = out_dir / f"{name}.txt"
        files[name] = path
        procs.append(await asyncio.create_subprocess_exec(
            binary, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", str(rate), "-f", "raw",
            "-o", str(path), "--nonblocking",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL))
    for proc in procs:
        try:
            await asyncio.wait_for(proc.wait(), seconds + 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
    return files


def summarize(path: Path, top: int = 15) -> dict[str, Any]:
    """Self and inclusive shares of the samples in Python code (loop/native waits removed), in percent."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    busy = idle = 0
    if not path.exists():
        return {"error": f"no profile at {path}"}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        n = int(count)
        if not frames or frames[-1].startswith(IDLE_FRAMES):
            idle += n
            continue
        busy += n
        self_time[frames[-1]] += n
        for frame in set(frames):
            if not frame.startswith(ENTRY_FRAMES) and not any(m in frame for m in ENTRY_MODULES):
                inclusive[frame] += n

    def share(counter: Counter[str]) -> list[dict[str, Any]]:
        return [{"function": f, "percent": round(100 * n / busy, 1)} for f, n in counter.most_common(top)]

    return {"python_samples": busy, "loop_or_native_samples": idle,
            "python_fraction": round(busy / (busy + idle), 3) if busy + idle else None,
            "self": share(self_time), "inclusive": share(inclusive), "raw": str(path)}
