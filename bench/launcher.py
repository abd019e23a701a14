"""Start what the bench measures, as in production, on loopback and free ports.

:class:`BenchSystem` is a fresh MySQL database (migrated, dropped afterwards), a private JetStream nats-server
and the services as ``python -m switchboard serve`` processes through :mod:`switchboard.runner` — the same way
``switchboard up`` and the tests start them (the tests' ``System`` is mirrored here rather than imported,
because bench code must not depend on ``tests/``). :class:`RelayProcess` is the bare relay in its own process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import aiomysql

from switchboard.auth import issue_token
from switchboard.cli import migration_folders
from switchboard.db import MySQLURL
from switchboard.migrate import migrate
from switchboard.runner import ManagedProcess, NatsServer, ServiceProcess, free_port, wait_for_port

MYSQL_SERVER = os.environ.get("BENCH_MYSQL_SERVER", "mysql://root@127.0.0.1:3306")
JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256"
# The edge's per-socket send budget (50/s, burst 200) is abuse protection, not capacity: the bench drives a
# few sockets far above it (pairs at thousands of msg/s, a 10,000-message backlog from one agent), so it is
# lifted. Everything else runs with production defaults.
BENCH_ENV = {"SWITCHBOARD_SEND_RATE_PER_SECOND": "1000000", "SWITCHBOARD_SEND_BURST": "1000000"}


class RelayProcess(ManagedProcess):
    """``python -m bench.relay --mode <mode>`` on a free loopback port."""

    def __init__(self, mode: str, log_dir: Path) -> None:
        self.mode, self.port = mode, free_port()
        argv = [sys.executable, "-m", "bench.relay", "--mode", mode, "--port", str(self.port)]
        super().__init__(f"relay-{mode}", argv, os.environ, log_dir / f"relay-{mode}.log")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        await super().start()
        await wait_for_port("127.0.0.1", self.port, 20, self.proc)


@dataclasses.dataclass
class Edge:
    node_id: str
    port: int
    process: ServiceProcess

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"


class BenchSystem:
    """The whole deployment for one scenario. Use as ``async with BenchSystem(log_dir, edges=2) as system``."""

    def __init__(self, log_dir: Path, edges: int = 1, extra_env: dict[str, str] | None = None) -> None:
        self.log_dir, self.edge_count = log_dir, edges
        self.mysql_url = f"{MYSQL_SERVER}/sb_bench_{uuid.uuid4().hex[:10]}"
        self.store = Path(tempfile.mkdtemp(prefix="sb-bench-js-", dir=log_dir))
        self.nats = NatsServer(self.store, log_path=log_dir / "nats.log")
        self.devices_grpc_port, self.messaging_grpc_port = free_port(), free_port()
        self.extra_env = {**BENCH_ENV, **(extra_env or {})}
        self.services: dict[str, ServiceProcess] = {}
        self.edges: list[Edge] = []
        self._base_env: dict[str, str] = {}

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SWITCHBOARD_MYSQL_URL": self.mysql_url,
            "SWITCHBOARD_NATS_URL": self.nats.url,
            "SWITCHBOARD_NATS_PREFIX": f"b{uuid.uuid4().hex[:10]}",
            "SWITCHBOARD_JWT_SECRET": JWT_SECRET,
            "SWITCHBOARD_LOG_LEVEL": "WARNING",
            "SWITCHBOARD_DEVICES_GRPC_PORT": str(self.devices_grpc_port),
            "SWITCHBOARD_MESSAGING_GRPC_PORT": str(self.messaging_grpc_port),
            "SWITCHBOARD_DEVICES_GRPC_TARGET": f"127.0.0.1:{self.devices_grpc_port}",
            "SWITCHBOARD_MESSAGING_GRPC_TARGET": f"127.0.0.1:{self.messaging_grpc_port}",
            **self.extra_env,
        }

    async def __aenter__(self) -> BenchSystem:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        await migrate(self.mysql_url, migration_folders())
        await self.nats.start()
        env = self._env()
        for service in ("devices", "messaging"):
            http_port = free_port()
            proc = ServiceProcess(service, http_port,
                                  {**env, f"SWITCHBOARD_{service.upper()}_HTTP_PORT": str(http_port),
                                   "SWITCHBOARD_NODE_ID": service},
                                  name=service, log_path=self.log_dir / f"{service}.log")
            await proc.start()
            self.services[service] = proc
        self._base_env = env
        for _ in range(self.edge_count):
            await self.add_edge()

    async def add_edge(self) -> Edge:
        """One more connection-service node (the sockets scenario measures a fresh one from zero)."""
        node_id, port = f"edge-{len(self.edges) + 1}", free_port()
        proc = ServiceProcess("connection", port,
                              {**self._base_env, "SWITCHBOARD_EDGE_PORT": str(port), "SWITCHBOARD_NODE_ID": node_id},
                              name=node_id, log_path=self.log_dir / f"{node_id}.log")
        self.edges.append(Edge(node_id, port, proc))
        await proc.start()
        return self.edges[-1]

    @property
    def pids(self) -> dict[str, int]:
        """Service PIDs by name, for CPU and RSS (nats-server included: it is part of the message path)."""
        found = {name: p.proc.pid for name, p in self.services.items() if p.proc is not None}
        found.update({e.node_id: e.process.proc.pid for e in self.edges if e.process.proc is not None})
        if self.nats.proc is not None:
            found["nats"] = self.nats.proc.pid
        return found

    def token(self, user_id: int, role: str = "user") -> str:
        return issue_token(user_id, role, JWT_SECRET, ttl_seconds=6 * 3600)  # type: ignore[arg-type]

    async def query(self, sql: str, *args: Any, database: bool = True) -> list[tuple[Any, ...]]:
        conn = await aiomysql.connect(**MySQLURL.parse(self.mysql_url).connect_kwargs(with_database=database))
        try:
            async with conn.cursor() as cur:
                await cur.execute(sql, args or None)
                return list(await cur.fetchall())
        finally:
            conn.close()

    async def stop(self) -> None:
        for edge in self.edges:
            await edge.process.stop()
        for proc in reversed(list(self.services.values())):
            await proc.stop()
        await self.nats.stop()
        with contextlib.suppress(Exception):
            await self.query(f"DROP DATABASE IF EXISTS `{MySQLURL.parse(self.mysql_url).database}`",
                             database=False)


def metric_sum(http_port: int, name: str, contains: str = "") -> float:
    """Sum of a Prometheus counter's samples on a service's ``/metrics`` whose labels contain ``contains``:
    the statements a service issued, counted where they are issued (MySQL's own counters are server-wide)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and contains in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def mysql_status(mysql_url: str, names: tuple[str, ...]) -> dict[str, int]:
    """Server-wide ``SHOW GLOBAL STATUS`` counters (performance_schema is off on MariaDB here, so statement
    counts cannot be filtered to our database: run the bench on a quiet server)."""
    conn = await aiomysql.connect(**MySQLURL.parse(mysql_url).connect_kwargs(with_database=False))
    try:
        async with conn.cursor() as cur:
            await cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN (" + ",".join(["%s"] * len(names)) + ")",
                              names)
            return {name: int(value) for name, value in await cur.fetchall()}
    finally:
        conn.close()
