"""The layout runs the whole system: its notifications service is ready (with no push provider configured on
loopback it binds no consumer: there is nothing to push), and ``switchboard status`` run as an operator runs it —
another process, nothing but the settings the layout writes for the operator (``python -m switchboard.cluster``
writes the same) — reads every part of it: each edge behind nginx, the registry over gRPC, MySQL and the stream's
three copies."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import aiohttp

from switchboard.cluster import LoopbackCluster
from switchboard.datadir import DataDir
from switchboard.nats import Subjects


async def test_the_notifications_service_is_ready_on_the_cluster(cluster: LoopbackCluster) -> None:
    notifications = cluster.deployment.services["notifications"]
    async with aiohttp.ClientSession() as http, \
            http.get(f"http://127.0.0.1:{notifications.http_port}/ready") as resp:
        body = await resp.json()
    assert resp.status == 200, body
    assert body["checks"] == {"mysql": True, "nats": True}  # no provider here: no inbox consumer is wanted
    assert notifications.proc is not None and body["pid"] == notifications.proc.pid


async def test_switchboard_status_reads_every_part_of_the_cluster(cluster: LoopbackCluster, tmp_path: Path) -> None:
    DataDir(tmp_path).write_operator_env(cluster.operator_env())
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "switchboard", "status", "--data-dir", str(tmp_path),
        env={"PATH": os.environ["PATH"]}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = (b.decode() for b in await asyncio.wait_for(proc.communicate(), 60))
    assert proc.returncode == 0, out + err
    for edge in cluster.deployment.edges:
        assert re.search(rf"^{re.escape(edge.admin_url)}\s+ready\s", out, re.MULTILINE), out
    # the inbox stream: three copies, a leader elected (no consumer: the layout's notifications has no provider)
    name = Subjects(cluster.deployment.prefix).inbox_stream
    stream = next(line.split() for line in out.splitlines() if line.startswith(f"{name} "))
    replicas, leader = int(stream[6]), stream[7]
    assert replicas == 3, out
    assert leader in {node.server_name for node in cluster.nats.nodes}, out
