"""Connections: registration, reconnects, ownership, the per-device cap, heartbeats, unregistering, node resets
and the stale sweep."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from protos import devices_pb2
from switchboard.errors import Forbidden, LimitExceeded, NotFound
from tests.devices.conftest import MAX_SOCKETS

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def status_of(system, connection_id: str) -> str:
    rows = await system.query("SELECT status FROM user_connections WHERE connection_id = %s", connection_id)
    return rows[0][0]


async def test_first_socket_brings_the_user_online_and_a_second_does_not(register_connection, new_user):
    user = new_user()
    _, first = await register_connection(user, "laptop")
    _, second = await register_connection(user, "phone")

    assert (first.reconnected, first.user_came_online) == (False, True)
    assert (second.reconnected, second.user_came_online) == (False, False)


async def test_reconnecting_with_the_same_connection_id_updates_its_one_row(
    register_connection, new_user, devices_system, stub
):
    user = new_user()
    connection_id, _ = await register_connection(user, "laptop", node="edge-a")
    await stub.UnregisterConnection(devices_pb2.UnregisterConnectionRequest(connection_id=connection_id))
    _, again = await register_connection(user, "laptop", connection_id=connection_id, node="edge-b")

    assert again.reconnected and again.user_came_online
    rows = await devices_system.query(
        "SELECT node_id, status, disconnected_at FROM user_connections WHERE connection_id = %s", connection_id)
    assert rows == [("edge-b", "connected", None)]


async def test_a_connection_id_of_another_user_is_forbidden(register_connection, new_user):
    connection_id, _ = await register_connection(new_user(), "laptop")

    with pytest.raises(Forbidden) as exc:
        await register_connection(new_user(), "laptop", connection_id=connection_id)
    assert exc.value.code == "FORBIDDEN"


async def test_a_device_holds_a_limited_number_of_sockets(register_connection, new_user):
    user = new_user()
    ids = [(await register_connection(user, "laptop"))[0] for _ in range(MAX_SOCKETS)]

    with pytest.raises(LimitExceeded) as exc:
        await register_connection(user, "laptop")
    assert exc.value.code == "LIMIT_EXCEEDED"
    await register_connection(user, "phone")  # the cap is per device
    await register_connection(user, "laptop", connection_id=ids[0])  # a reconnect takes no new place


async def test_touch_updates_the_heartbeat_of_every_listed_connection_of_the_node_in_one_call(
    register_connection, new_user, devices_system, stub, node_id
):
    user = new_user()
    mine = [(await register_connection(user, f"d{n}"))[0] for n in range(2)]
    elsewhere, _ = await register_connection(user, "d2", node="another-edge")
    # Ten minutes back: well inside the sweep's timeout, so only the touch can move it forward.
    await devices_system.query(
        "UPDATE user_connections SET last_heartbeat = NOW(3) - INTERVAL 10 MINUTE WHERE user_id = %s", user)

    reply = await stub.TouchConnections(devices_pb2.TouchConnectionsRequest(
        node_id=node_id, connection_ids=[*mine, elsewhere]))

    assert reply.updated == 2
    rows = dict(await devices_system.query(
        "SELECT connection_id, last_heartbeat > NOW(3) - INTERVAL 10 MINUTE FROM user_connections"
        " WHERE user_id = %s", user))
    assert rows == {mine[0]: 1, mine[1]: 1, elsewhere: 0}


async def test_unregistering_the_last_socket_takes_the_user_offline(register_connection, new_user, stub):
    user = new_user()
    first, _ = await register_connection(user, "laptop")
    second, _ = await register_connection(user, "phone")

    one = await stub.UnregisterConnection(devices_pb2.UnregisterConnectionRequest(connection_id=first))
    last = await stub.UnregisterConnection(devices_pb2.UnregisterConnectionRequest(connection_id=second))
    again = await stub.UnregisterConnection(devices_pb2.UnregisterConnectionRequest(connection_id=second))

    assert (one.user_went_offline, last.user_went_offline, again.user_went_offline) == (False, True, False)
    with pytest.raises(NotFound):
        await stub.UnregisterConnection(devices_pb2.UnregisterConnectionRequest(connection_id=str(uuid.uuid4())))


async def test_presence_reports_online_users_their_devices_and_last_seen(register_connection, new_user, stub):
    online, offline, unknown = new_user(), new_user(), new_user()
    await register_connection(online, "laptop")
    await register_connection(online, "phone")
    gone, _ = await register_connection(offline, "laptop")
    await stub.UnregisterConnection(devices_pb2.UnregisterConnectionRequest(connection_id=gone))

    reply = await stub.GetPresence(devices_pb2.GetPresenceRequest(user_ids=[online, offline, unknown]))

    by_user = {p.user_id: p for p in reply.users}
    assert [p.user_id for p in reply.users] == [online, offline, unknown]
    assert by_user[online].online and list(by_user[online].device_ids) == ["laptop", "phone"]
    assert not by_user[offline].online and not by_user[offline].device_ids
    assert by_user[offline].last_seen.endswith("Z")
    assert (by_user[unknown].online, by_user[unknown].last_seen) == (False, "")


async def test_reset_node_closes_only_that_nodes_sockets(register_connection, new_user, stub, node_id, devices_system):
    a, b = new_user(), new_user()
    on_node = [(await register_connection(user, "laptop"))[0] for user in (a, b)]
    elsewhere, _ = await register_connection(a, "phone", node="another-edge")

    reply = await stub.ResetNode(devices_pb2.ResetNodeRequest(node_id=node_id))

    assert reply.closed == 2
    assert [await status_of(devices_system, c) for c in on_node] == ["disconnected", "disconnected"]
    assert await status_of(devices_system, elsewhere) == "connected"
    presence = await stub.GetPresence(devices_pb2.GetPresenceRequest(user_ids=[a, b]))
    assert [(p.online, list(p.device_ids)) for p in presence.users] == [(True, ["phone"]), (False, [])]


async def test_the_sweep_closes_connections_whose_heartbeat_is_older_than_the_timeout(
    register_connection, new_user, devices_system
):
    user = new_user()
    stale, _ = await register_connection(user, "laptop")
    fresh, _ = await register_connection(user, "phone")
    await devices_system.query(
        "UPDATE user_connections SET last_heartbeat = NOW(3) - INTERVAL 1 DAY WHERE connection_id = %s", stale)

    for _ in range(150):  # the sweep runs every 0.2 s
        if await status_of(devices_system, stale) == "disconnected":
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the stale connection was not closed")
    assert await status_of(devices_system, fresh) == "connected"


async def test_of_sockets_connecting_at_once_exactly_one_brings_the_user_online(register_connection, new_user, stub):
    user = new_user()
    replies = await asyncio.gather(*(register_connection(user, f"d{n}") for n in range(8)))
    assert sum(reply.user_came_online for _, reply in replies) == 1

    closing = await asyncio.gather(*(
        stub.UnregisterConnection(devices_pb2.UnregisterConnectionRequest(connection_id=c)) for c, _ in replies
    ))
    assert sum(reply.user_went_offline for reply in closing) == 1
