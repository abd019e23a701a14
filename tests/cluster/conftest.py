"""Fixtures of the cluster tests: the cluster layout on loopback (three NATS servers, two devices and two
messaging replicas, three edges, nginx in front), each on a database of its own, so what a test counts there is
its own traffic. Service, NATS and nginx logs are under the layout's temp directory."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import aiomysql
import pytest

from switchboard.cli import migration_folders
from switchboard.cluster import LoopbackCluster, Topology, cluster_env
from switchboard.db import MySQLURL
from switchboard.migrate import migrate
from switchboard.nats_cluster import NatsCluster
from tests.conftest import MYSQL_SERVER
from tests.faults.scenarios import FAULT_ENV
from tests.support.system import System


@contextlib.asynccontextmanager
async def layout(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LoopbackCluster]:
    """The layout on a fresh database, with the fault suite's short timeouts (stale sweeps, retries and publish
    timeouts act within a test); stopped and its database dropped afterwards."""
    url = f"{MYSQL_SERVER}/sb_cluster_{uuid.uuid4().hex[:10]}"
    await migrate(url, migration_folders())
    workdir = tmp_path_factory.mktemp("cluster")
    topology = Topology()
    nats = NatsCluster(workdir / "jetstream", topology.nats_servers, log_dir=workdir)
    system = System(url, nats, workdir, extra_env={**FAULT_ENV, **cluster_env(topology)})
    try:
        started = await LoopbackCluster(system, workdir, topology).start()
        yield started
        await started.stop()
    finally:
        conn = await aiomysql.connect(**MySQLURL.parse(url).connect_kwargs(with_database=False))
        async with conn.cursor() as cur:
            await cur.execute(f"DROP DATABASE IF EXISTS `{MySQLURL.parse(url).database}`")
        conn.close()


@pytest.fixture(scope="package")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LoopbackCluster]:
    """One layout for the tests that leave it whole (a test that stops a part starts it again)."""
    async with layout(tmp_path_factory) as started:
        yield started


@pytest.fixture(scope="module")
async def own_cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LoopbackCluster]:
    """A layout for a module that breaks it for good (kills), and whose verdict reads every stored message."""
    async with layout(tmp_path_factory) as started:
        yield started
