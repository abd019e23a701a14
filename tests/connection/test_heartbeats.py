"""Heartbeats keep a registered connection alive; silence past the timeout closes it."""

from __future__ import annotations

import asyncio
import contextlib

from tests.support.polling import eventually
from tests.support.users import SocketUser

SHORT_TIMEOUTS = {
    "SWITCHBOARD_HEARTBEAT_TIMEOUT_SECONDS": "1.5",
    "SWITCHBOARD_HEARTBEAT_FLUSH_SECONDS": "0.3",
}


async def test_a_silent_socket_is_closed_and_a_beating_one_stays(make_system) -> None:
    system = await make_system(edges=1, env=SHORT_TIMEOUTS)
    url = system.edges[0].url
    beating = await SocketUser(url, 501, system.token(501)).join()
    silent = await SocketUser(url, 502, system.token(502)).join()

    async def beat() -> None:
        while True:
            assert (await beating.call("heartbeat", {"connection_id": beating.connection_id}))["success"]
            await asyncio.sleep(0.3)

    beats = asyncio.create_task(beat())
    try:
        await eventually(lambda: not silent.sio.connected, timeout=15)
        rows = dict(await system.query(
            "SELECT connection_id, status FROM user_connections WHERE user_id IN (501, 502)"))
        assert beating.sio.connected
        assert rows[beating.connection_id] == "connected"
        await eventually(lambda: _status(system, silent.connection_id), "disconnected", timeout=10)
    finally:
        beats.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beats
        await beating.close()


async def test_heartbeats_advance_last_heartbeat_in_the_registry(make_system) -> None:
    system = await make_system(edges=1, env=SHORT_TIMEOUTS)
    users = [await SocketUser(system.edges[0].url, 600 + i, system.token(600 + i)).join() for i in range(5)]
    before = await system.query("SELECT MAX(last_heartbeat) FROM user_connections WHERE user_id >= 600")
    await asyncio.sleep(0.05)
    for user in users:
        await user.call("heartbeat", {"connection_id": user.connection_id})

    async def touched() -> int:
        rows = await system.query(
            "SELECT COUNT(*) FROM user_connections WHERE user_id >= 600 AND last_heartbeat > %s", before[0][0])
        return rows[0][0]

    await eventually(touched, 5, timeout=10)
    for user in users:
        await user.close()


async def _status(system, connection_id: str) -> str:
    rows = await system.query("SELECT status FROM user_connections WHERE connection_id = %s", connection_id)
    return rows[0][0]
