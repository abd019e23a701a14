"""Fixtures of the fault suite: a private MariaDB (killable), a private NATS per scenario, the table.

Nothing here touches the machine's shared MariaDB (3306) or NATS (4222): every server a fault may stop is
started by the suite and signalled only through the process it started.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from switchboard.cli import migration_folders
from switchboard.migrate import migrate
from switchboard.runner import NatsServer
from tests.faults.checks import Verdict
from tests.faults.scenarios import Mode, current_mode
from tests.faults.servers import MariaDB, mariadb_available
from tests.faults.table import write_table

VERDICTS: list[Verdict] = []
_TABLE_PATH: list[Path] = []  # where the table goes: $SWITCHBOARD_FAULTS_TABLE, else the run's temp dir


@pytest.fixture(scope="session")
def mode() -> Mode:
    return current_mode()


@pytest.fixture(scope="session")
async def mariadb(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[MariaDB]:
    if not mariadb_available():
        pytest.skip("mariadbd / mariadb-install-db not installed: the fault suite needs a private server")
    base = tmp_path_factory.mktemp("mariadb")
    server = MariaDB(base, log_path=base / "mariadbd.log")
    server.install()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def mariadb_alive(mariadb: MariaDB) -> AsyncIterator[MariaDB]:
    """The shared private server, running and not hung whatever the previous scenario did to it."""
    await mariadb.resume()
    if not mariadb.running:
        await mariadb.start()
    yield mariadb
    await mariadb.resume()


@pytest.fixture
async def database_url(mariadb_alive: MariaDB) -> str:
    """A fresh, migrated database per scenario (kept afterwards, as evidence, until the server goes)."""
    url = f"{mariadb_alive.server_url}/faults_{uuid.uuid4().hex[:8]}"
    await migrate(url, migration_folders())
    return url


@pytest.fixture
async def nats(tmp_path: Path) -> AsyncIterator[NatsServer]:
    """A private NATS per scenario: a restart reuses its port and store directory."""
    server = NatsServer(tmp_path / "jetstream", log_path=tmp_path / "nats.log")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Verdict]]:
    """Each scenario adds its verdict; the table is printed at the end of the run."""
    if not _TABLE_PATH:
        default = tmp_path_factory.getbasetemp() / "faults-table.md"
        _TABLE_PATH.append(Path(os.environ.get("SWITCHBOARD_FAULTS_TABLE") or default))
    yield VERDICTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if VERDICTS:
        path = _TABLE_PATH[0]
        text = write_table(VERDICTS, current_mode(), path)
        terminalreporter.write_sep("=", f"fault suite ({current_mode().name} mode), written to {path}")
        terminalreporter.write_line(text)
