"""The notifications service with no push provider configured (the default): nothing can ever be sent, so it
does not bind the inbox consumer at all (reading every message only to drop it cost ~0.11 cores at chat rates,
bench/RESULTS.md Session 4), says so in its log, and is ready without waiting for a consumer."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.js.errors import NotFoundError

from switchboard.nats import Subjects
from switchboard.nats_auth import NOTIFICATIONS_CONSUMER
from switchboard.runner import NatsServer
from tests.support.system import System

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def system(mysql_url: str, nats_server: NatsServer, run_dir: Path) -> AsyncIterator[System]:
    log_dir = run_dir / "notifications-no-provider"
    log_dir.mkdir(exist_ok=True)
    system = await System(mysql_url, nats_server, log_dir).start(edges=0)
    await system.start_service("notifications")
    yield system
    await system.stop()


async def test_without_a_provider_no_consumer_is_bound_and_readiness_does_not_wait_for_one(system: System) -> None:
    assert readiness(system) == (200, {"mysql": True, "nats": True})

    subjects = Subjects(system.prefix)
    admin = await nats.connect(system.nats.admin_url)
    try:
        js = admin.jetstream()
        await js.stream_info(subjects.inbox_stream)  # messaging made the stream it would read
        with pytest.raises(NotFoundError):
            await js.consumer_info(subjects.inbox_stream, NOTIFICATIONS_CONSUMER)
    finally:
        await admin.close()

    log = (system.log_dir / "notifications.log").read_text()
    assert "no push provider configured: the inbox consumer is not bound" in log


def readiness(system: System) -> tuple[int, dict[str, bool]]:
    port = system.services["notifications"].http_port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=10) as reply:
        return reply.status, json.loads(reply.read())["checks"]
