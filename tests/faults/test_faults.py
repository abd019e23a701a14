"""Delivery under faults (issue #10): one scenario per fault, each judged on what the devices showed and what
the database holds. ``SWITCHBOARD_FAULTS=full`` runs every scenario with 20 conversations; by default (CI) a
few scenarios with fewer conversations. Service logs are under each test's temp directory."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.runner import NatsServer
from tests.faults.checks import Verdict, Window, settle
from tests.faults.driver import Traffic
from tests.faults.scenarios import FaultSystem, Mode, Scenario, Stage, current_mode
from tests.faults.servers import MariaDB
from tests.faults.table import commit, render

pytestmark = pytest.mark.timeout(600)


@contextlib.contextmanager
def client_log(path: Path) -> Iterator[None]:
    """The SDK's own account (``client.*`` at INFO) beside the services' logs: why a device missed something."""
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logger = logging.getLogger("client")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


async def run_scenario(scenario: Scenario, mode: Mode, mariadb: MariaDB, nats: NatsServer, database_url: str,
                       workdir: Path) -> Verdict:
    """Traffic, the fault, more traffic, stop, settle, verdict; every process is stopped whatever happens."""
    system = FaultSystem(database_url, nats, workdir, replicas=scenario.replicas)
    traffic = Traffic(system, dataclasses.replace(mode.plan, remote_customer=scenario.remote_customer), workdir)
    stage = Stage(system, mariadb, nats, traffic, mode.outage)
    ran_on = commit()
    try:
        await system.start_all()
        await traffic.start()
        await asyncio.sleep(mode.warmup)
        start = time.monotonic()
        window = Window(start, await scenario.fault(stage))
        await asyncio.sleep(mode.after)
        await traffic.stop()
        verdict = await settle(scenario.name, traffic, system, window, mode.settle)
        verdict.commit = ran_on
        return verdict
    finally:
        stage.heal()
        await traffic.close()
        await system.stop()


@pytest.mark.parametrize("scenario", current_mode().scenarios, ids=lambda s: s.slug)
async def test_delivery_under_fault(scenario: Scenario, mode: Mode, mariadb_alive: MariaDB, nats: NatsServer,
                                    database_url: str, tmp_path: Path, verdicts: list[Verdict]) -> None:
    with client_log(tmp_path / "clients.log"):
        verdict = await run_scenario(scenario, mode, mariadb_alive, nats, database_url, tmp_path)
    verdicts.append(verdict)
    print("\n" + render([verdict], mode) + f"\nlogs: {tmp_path}")
    counts = {"lost": verdict.lost, "own copies missed": verdict.own_missed, "duplicates": verdict.duplicates,
              "order": verdict.order_violations, "receipts": verdict.receipts_lost}
    assert counts == dict.fromkeys(counts, 0), f"{counts}; logs in {tmp_path}; " + "; ".join(verdict.details)
    assert not math.isinf(verdict.recovery), f"a session never delivered again; logs in {tmp_path}"
    assert verdict.recovery <= scenario.recovery_target, (
        f"recovery {verdict.recovery:.1f}s > {scenario.recovery_target}s; logs in {tmp_path}")
