"""Reconnecting across several edges, against the real system."""

from __future__ import annotations

from client import AsyncWebSocketClient, ConnectionStatus
from switchboard.runner import free_port
from tests.support.polling import eventually
from tests.support.system import System
from tests.support.users import new_user_id


async def test_several_edge_urls_move_to_a_live_edge_when_one_dies(make_system) -> None:
    """Default backoff settings: the first retry after a stable link dropped goes to the next edge."""
    system: System = await make_system(edges=2)
    first, second = system.edges
    dead = f"http://127.0.0.1:{free_port()}"
    uid = new_user_id()
    client = AsyncWebSocketClient([dead, first.url, second.url], heartbeat_interval=1.0, heartbeat_timeout=2.0)
    drops: list[int] = []

    @client.on_disconnect
    def dropped() -> None:  # the spec's example takes no argument
        drops.append(1)

    try:
        assert await client.connect(uid, system.token(uid), timeout=15)  # past the dead URL
        assert client.server_url == first.url
        await first.process.kill()
        await eventually(lambda: drops == [1])
        await eventually(lambda: client.get_status() == ConnectionStatus.CONNECTED, timeout=20)
        assert client.server_url == second.url
        assert (await client.list_devices())
    finally:
        await client.close()


async def test_a_single_url_and_the_positional_form_still_work(system: System) -> None:
    uid = new_user_id()
    client = AsyncWebSocketClient(system.edges[0].url)
    try:
        assert await client.connect(uid, system.token(uid), timeout=15)
        assert client.server_url == system.edges[0].url
    finally:
        await client.close()
    keyword = AsyncWebSocketClient(server_url=(system.edges[1].url,))
    try:
        assert await keyword.connect(uid, system.token(uid), timeout=15)
    finally:
        await keyword.close()
