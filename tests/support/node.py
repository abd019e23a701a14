"""Node.js programs the tests run (the official socket.io-client, the browser SDK): found with their packages
installed by scripts/setup-js, never installed at test time, and never waited for forever."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

# A program has its own time limit; this one only guards against a hung node process.
HUNG_SECONDS = 120


def node(package_dir: Path, needs: str) -> str:
    """The ``node`` binary, once ``package_dir``'s dependencies (``needs`` among them) are installed."""
    found = shutil.which("node")
    if found is None or not (package_dir / "node_modules" / needs).is_dir():
        pytest.fail(f"node or {package_dir.name}/node_modules missing: run scripts/setup-js")
    return found


async def run_node(package_dir: Path, needs: str, *args: str, timeout: float = HUNG_SECONDS) -> tuple[str, str]:
    """Run ``node args…`` in ``package_dir``; its stdout and stderr once it exited 0 (else the test fails with
    both)."""
    proc = await asyncio.create_subprocess_exec(node(package_dir, needs), *args, cwd=package_dir,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        stdout, stderr = (b.decode() for b in await asyncio.wait_for(proc.communicate(), timeout=timeout))
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, f"node {' '.join(args)[:80]} exited {proc.returncode}:\n{stderr}\n{stdout}"
    return stdout, stderr
