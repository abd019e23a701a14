"""Start what the bench measures, as in production, on loopback and free ports.

:class:`BenchSystem` is a fresh MySQL database (migrated, dropped afterwards), a private JetStream nats-server
and the services as ``python -m switchboard serve`` processes through :class:`switchboard.deployment.Deployment`,
exactly as the tests start them. :class:`RelayProcess` is the bare relay in its own process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import aiomysql

from switchboard.cli import migration_folders
from switchboard.db import MySQLURL
from switchboard.deployment import Deployment
from switchboard.migrate import migrate
from switchboard.runner import ManagedProcess, NatsServer, free_port, wait_for_port

if TYPE_CHECKING:
    from tests.support.push_peers.fcm import FcmPeer

MYSQL_SERVER = os.environ.get("BENCH_MYSQL_SERVER", "mysql://root@127.0.0.1:3306")
JWT_SECRET = "bench-secret-that-is-long-enough-for-hs256"
# The edge's per-socket send budget (50/s, burst 200) is abuse protection, not capacity: the bench drives a
# few sockets far above it (pairs at thousands of msg/s, a 10,000-message backlog from one agent), so it is
# lifted; so is the cap on connections per client address (every bench socket comes from 127.0.0.1).
# Everything else runs with production defaults.
BENCH_ENV = {"SWITCHBOARD_SEND_RATE_PER_SECOND": "1000000", "SWITCHBOARD_SEND_BURST": "1000000",
             "SWITCHBOARD_MAX_CONNECTIONS_PER_IP": "0", "SWITCHBOARD_LOG_LEVEL": "WARNING"}
# The notifications service in the benched deployment: not started; started with no provider configured (its
# intake reads every stored message and records nothing); started with FCM configured (bench/push.py), where
# customers' devices hold push tokens and every message to them schedules a push row.
NOTIFICATIONS_OFF, NOTIFICATIONS_IDLE, NOTIFICATIONS_FCM = "off", "no-provider", "fcm"
NOTIFICATIONS = (NOTIFICATIONS_OFF, NOTIFICATIONS_IDLE, NOTIFICATIONS_FCM)


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


class BenchSystem(Deployment):
    """The whole deployment for one scenario, with a database and a nats-server of its own (both removed
    afterwards). Use as ``async with BenchSystem(log_dir, edges=2) as system``."""

    def __init__(self, log_dir: Path, edges: int = 1, extra_env: dict[str, str] | None = None,
                 notifications: str = NOTIFICATIONS_OFF) -> None:
        nats = NatsServer(Path(tempfile.mkdtemp(prefix="sb-bench-js-", dir=log_dir)), log_path=log_dir / "nats.log")
        super().__init__(f"{MYSQL_SERVER}/sb_bench_{uuid.uuid4().hex[:10]}", nats, log_dir, JWT_SECRET,
                         extra_env={**BENCH_ENV, **(extra_env or {})}, prefix=f"b{uuid.uuid4().hex[:10]}")
        self.edge_count = edges
        if notifications not in NOTIFICATIONS:
            raise ValueError(f"notifications must be one of {', '.join(NOTIFICATIONS)}")
        self.notifications = notifications
        self._push_peer: FcmPeer | None = None

    async def __aenter__(self) -> BenchSystem:
        try:
            await migrate(self.mysql_url, migration_folders())
            await self.nats.start()
            await self.start(edges=self.edge_count)
            await self._start_notifications()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _start_notifications(self) -> None:
        """The notifications service on production defaults (5 s grace, 0.2 s polls); with ``fcm``, its FCM
        provider pointed at a loopback peer (every other service ignores the provider settings)."""
        if self.notifications == NOTIFICATIONS_OFF:
            return
        if self.notifications == NOTIFICATIONS_FCM:
            from bench.push import start_fcm_peer

            self._push_peer = await start_fcm_peer(Path(tempfile.mkdtemp(prefix="sb-bench-push-", dir=self.log_dir)))
            self.env.update(self._push_peer.env())
        await self.start_service("notifications")

    @property
    def push_tokens(self) -> bool:
        """Whether bench customers should register push tokens (only a configured provider makes them count)."""
        return self.notifications == NOTIFICATIONS_FCM

    async def stop(self) -> None:
        await super().stop()
        if self._push_peer is not None:
            await self._push_peer.stop()
            self._push_peer = None
        await self.nats.stop()
        target = MySQLURL.parse(self.mysql_url)
        with contextlib.suppress(Exception):
            conn = await aiomysql.connect(**target.connect_kwargs(with_database=False))
            try:
                async with conn.cursor() as cur:
                    await cur.execute(f"DROP DATABASE IF EXISTS `{target.database}`")
            finally:
                conn.close()


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
