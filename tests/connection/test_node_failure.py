"""An edge node that dies without saying goodbye: its users go offline, and come back through another node."""

from __future__ import annotations

from protos import devices_pb2
from tests.support.polling import eventually
from tests.support.users import SocketUser

FAST_CLEANUP = {
    "SWITCHBOARD_HEARTBEAT_TIMEOUT_SECONDS": "2",
    "SWITCHBOARD_HEARTBEAT_FLUSH_SECONDS": "0.5",
    "SWITCHBOARD_CLEANUP_INTERVAL_SECONDS": "0.5",
}


async def test_users_of_a_killed_node_show_offline_after_the_cleanup_period(make_system) -> None:
    system = await make_system(edges=2, env=FAST_CLEANUP)
    doomed = await SocketUser(system.edges[0].url, 901, system.token(901)).join()
    survivor = await SocketUser(system.edges[1].url, 902, system.token(902)).join()
    stub = system.devices_stub()

    async def online() -> dict[int, bool]:
        reply = await stub.GetPresence(devices_pb2.GetPresenceRequest(user_ids=[901, 902]))
        return {p.user_id: p.online for p in reply.users}

    assert await online() == {901: True, 902: True}
    await system.edges[0].process.kill()

    async def keep_survivor_beating() -> dict[int, bool]:
        await survivor.call("heartbeat", {"connection_id": survivor.connection_id})
        return await online()

    await eventually(keep_survivor_beating, {901: False, 902: True}, timeout=30, interval=0.3)
    await doomed.close()
    await survivor.close()


async def test_a_restarted_node_closes_the_rows_it_left_behind(make_system) -> None:
    system = await make_system(edges=1)
    edge = system.edges[0]
    user = await SocketUser(edge.url, 903, system.token(903)).join()
    await edge.process.kill()
    await system.restart_edge(edge)
    await eventually(
        lambda: system.query("SELECT status FROM user_connections WHERE connection_id = %s", user.connection_id),
        [("disconnected",)],
    )
    await user.close()
