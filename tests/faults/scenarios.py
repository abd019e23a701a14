"""The faults, one per scenario, and the two modes that choose how many run and how hard.

A fault acts on one component of a private deployment (its own MariaDB, NATS, services and edges) while the
traffic driver runs, and returns the moment the fault ended: the component ready again after a restart, or
SIGCONT after a hang. Recovery is measured from there (:mod:`tests.faults.checks`). Every outage lasts
``Mode.outage`` seconds (≤ 10 s, the issue's bound for a 10 s recovery).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from switchboard.runner import ManagedProcess, NatsServer, free_port
from tests.faults.driver import Traffic, TrafficPlan
from tests.faults.servers import MariaDB
from tests.support.system import System

#: Short timeouts so each mechanism (stale sweeps, retry queue, publish timeouts) acts within a scenario.
FAULT_ENV = {
    "SWITCHBOARD_LOG_FORMAT": "text",
    "SWITCHBOARD_HEARTBEAT_INTERVAL_SECONDS": "1",
    "SWITCHBOARD_HEARTBEAT_TIMEOUT_SECONDS": "10",
    "SWITCHBOARD_HEARTBEAT_FLUSH_SECONDS": "1",
    "SWITCHBOARD_CLEANUP_INTERVAL_SECONDS": "2",
    "SWITCHBOARD_RETRY_BASE_SECONDS": "0.2",
    "SWITCHBOARD_PUBLISH_TIMEOUT_SECONDS": "0.5",
    "SWITCHBOARD_MYSQL_POOL_SIZE": "5",
}


class FaultSystem(System):
    """The tests' deployment with ``replicas`` messaging processes on ports chosen up front, so the edges'
    ``SWITCHBOARD_MESSAGING_GRPC_TARGET`` can list them all (comma-separated: round robin with fail-over)."""

    def __init__(self, mysql_url: str, nats: NatsServer, log_dir: Path, replicas: int = 1) -> None:
        super().__init__(mysql_url, nats, log_dir, extra_env=FAULT_ENV)
        self.messaging_ports = [self.messaging_grpc_port, *(free_port() for _ in range(replicas - 1))]
        self.env["SWITCHBOARD_MESSAGING_GRPC_TARGET"] = ",".join(f"127.0.0.1:{p}" for p in self.messaging_ports)

    async def start_all(self, edges: int = 2) -> FaultSystem:
        await self.start_service("devices")
        for i, port in enumerate(self.messaging_ports):
            await self.start_service("messaging", name="messaging" if i == 0 else f"messaging-{i + 1}", grpc_port=port)
        for _ in range(edges):
            await self.add_edge()
        return self

    def processes(self) -> list[ManagedProcess]:
        return [*self.services.values(), *(edge.process for edge in self.edges)]


@dataclasses.dataclass
class Stage:
    """Everything a fault may act on."""

    system: FaultSystem
    mariadb: MariaDB
    nats: NatsServer
    traffic: Traffic
    outage: float

    def heal(self) -> None:
        """Resume whatever a failed scenario left stopped, so tear-down and the next scenario are not stuck."""
        for proc in [self.mariadb, self.nats, *self.system.processes()]:
            proc.signal(signal.SIGCONT)


Fault = Callable[[Stage], Awaitable[float]]


async def kill_and_restart(proc: ManagedProcess, outage: float) -> float:
    await proc.kill()
    await asyncio.sleep(outage)
    await proc.start()
    return time.monotonic()


async def hang(proc: ManagedProcess, outage: float) -> float:
    proc.signal(signal.SIGSTOP)
    await asyncio.sleep(outage)
    proc.signal(signal.SIGCONT)
    return time.monotonic()


async def terminate_and_restart(proc: ManagedProcess, pause: float) -> float:
    """SIGTERM: the process drains and exits by itself; then it starts again."""
    await proc.stop(timeout=30)
    await asyncio.sleep(pause)
    await proc.start()
    return time.monotonic()


async def kill_client(stage: Stage) -> float:
    """The customer process dies by SIGKILL with a burst in its outbox; it restarts on the same files."""
    remote = stage.traffic.remote
    assert remote is not None, "this scenario needs TrafficPlan.remote_customer"
    queued = await remote.die_with_full_outbox()
    assert queued > 0, f"the outbox was empty at the kill ({queued}): the scenario would test nothing"
    await asyncio.sleep(1)
    await remote.start()
    return time.monotonic()


def edge(stage: Stage) -> ManagedProcess:
    return stage.system.edges[0].process


def service(name: str) -> Callable[[Stage], ManagedProcess]:
    return lambda stage: stage.system.services[name]


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    fault: Fault
    replicas: int = 1  # messaging processes
    remote_customer: bool = False
    short: bool = False  # part of the CI (short) mode
    recovery_target: float = 10.0

    @property
    def slug(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")


def _kill(target: Callable[[Stage], ManagedProcess]) -> Fault:
    return lambda stage: kill_and_restart(target(stage), stage.outage)


def _hang(target: Callable[[Stage], ManagedProcess]) -> Fault:
    return lambda stage: hang(target(stage), stage.outage)


EDGE_TARGET = 5.0  # clients back within 5 s of the edge being ready (or at once on the other edge)

SCENARIOS = [
    Scenario("edge SIGKILL", _kill(edge), short=True, recovery_target=EDGE_TARGET),
    Scenario("edge SIGSTOP", _hang(edge), recovery_target=EDGE_TARGET),
    Scenario("edge SIGTERM", lambda stage: terminate_and_restart(edge(stage), 1.0), recovery_target=EDGE_TARGET),
    Scenario("messaging SIGKILL", _kill(service("messaging")), short=True),
    Scenario("messaging SIGKILL, 2 replicas", _kill(service("messaging")), replicas=2),
    Scenario("messaging SIGSTOP", _hang(service("messaging"))),
    Scenario("messaging SIGSTOP, 2 replicas", _hang(service("messaging")), replicas=2),
    Scenario("devices SIGKILL", _kill(service("devices"))),
    Scenario("devices SIGSTOP", _hang(service("devices"))),
    Scenario("NATS restart", _kill(lambda stage: stage.nats), short=True),
    Scenario("MySQL restart", _kill(lambda stage: stage.mariadb)),
    Scenario("MySQL hang", _hang(lambda stage: stage.mariadb), short=True),
    Scenario("client SIGKILL with outbox", kill_client, remote_customer=True),
]


@dataclasses.dataclass(frozen=True)
class Mode:
    """How many conversations, for how long, which scenarios. ``SWITCHBOARD_FAULTS=full`` selects the full
    mode; anything else (CI) the short one."""

    name: str
    plan: TrafficPlan
    warmup: float  # traffic before the fault
    outage: float  # how long the component is down or hung
    after: float  # traffic after the fault's end
    settle: float  # bound on waiting for the system to catch up once traffic stopped

    @property
    def scenarios(self) -> list[Scenario]:
        return SCENARIOS if self.name == "full" else [s for s in SCENARIOS if s.short]


# The settle bound is far above what catching up takes (retry queue and client backoffs are ≤ 1–2 s here): a
# scenario waits it out only when something is missing for good.
SHORT = Mode("short", TrafficPlan(pairs=6, interval=0.4, bouncers=2, second_devices=2), warmup=3, outage=5, after=6,
             settle=20)
FULL = Mode("full", TrafficPlan(pairs=20, interval=0.5, bouncers=4, second_devices=4), warmup=4, outage=5, after=10,
            settle=30)


def current_mode() -> Mode:
    return FULL if os.environ.get("SWITCHBOARD_FAULTS", "").lower() == "full" else SHORT
