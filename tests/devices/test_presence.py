"""Presence transitions published on ``{prefix}.presence.<user_id>``: online at a user's first connected
socket, offline when the last one closes — unregistered, kicked, reset with its node or swept as stale.
The devices service publishes one user's transitions in order, so a user's complete list of events, read
once the last expected one arrived, also shows that nothing was published in between."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from nats.aio.msg import Msg

from protos import devices_pb2
from switchboard.nats import Subjects, decode
from tests.devices.conftest import customer_device
from tests.support.polling import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

Events = dict[int, list[dict[str, Any]]]


@pytest.fixture
async def presence(devices_system) -> AsyncIterator[Events]:
    """Every presence event of the devices service under test, by user."""
    nc = await nats.connect(devices_system.nats.admin_url)
    events: Events = defaultdict(list)

    async def record(msg: Msg) -> None:
        envelope = decode(msg.data)
        assert envelope["event"] == "presence"
        assert msg.subject == Subjects(devices_system.prefix).presence(envelope["data"]["user_id"])
        events[envelope["data"]["user_id"]].append(envelope["data"])

    await nc.subscribe(Subjects(devices_system.prefix).presence_wildcard, cb=record)
    await nc.flush()
    yield events
    await nc.close()


def transitions(events: Events, user_id: int) -> list[bool]:
    return [event["online"] for event in events[user_id]]


async def unregister(stub, connection_id: str) -> devices_pb2.UnregisterConnectionResponse:
    return await stub.UnregisterConnection(devices_pb2.UnregisterConnectionRequest(connection_id=connection_id))


async def test_first_socket_publishes_online_and_the_last_one_closing_offline(
    presence, register_connection, new_user, stub
):
    user = new_user()
    laptop, _ = await register_connection(user, "laptop")
    await eventually(lambda: transitions(presence, user), [True])
    assert presence[user][0] == {"user_id": user, "online": True, "last_seen": ""}

    phone, _ = await register_connection(user, "phone")
    await unregister(stub, laptop)
    assert (await unregister(stub, phone)).user_went_offline

    await eventually(lambda: transitions(presence, user), [True, False])
    offline = presence[user][1]
    assert offline["user_id"] == user and offline["last_seen"].endswith("Z")


async def test_a_reconnect_of_the_same_connection_publishes_online_again(
    presence, register_connection, new_user, stub
):
    user = new_user()
    connection_id, _ = await register_connection(user, "laptop")
    await unregister(stub, connection_id)
    await unregister(stub, connection_id)  # closing a closed row again is no transition
    await register_connection(user, "laptop", connection_id=connection_id)

    await eventually(lambda: transitions(presence, user), [True, False, True])


async def test_of_sockets_connecting_at_once_one_online_event_is_published(
    presence, register_connection, new_user, stub
):
    user = new_user()
    registered = await asyncio.gather(*(register_connection(user, f"device-{i}") for i in range(3)))
    for connection_id, _ in registered:
        await unregister(stub, connection_id)

    await eventually(lambda: transitions(presence, user), [True, False])


async def test_kicking_the_last_connected_device_publishes_offline(presence, register_connection, new_user, stub):
    user = new_user()
    for device_id in ("laptop", "phone"):
        await stub.RegisterDevice(customer_device(user_id=user, device_id=device_id))
        await register_connection(user, device_id)

    await stub.KickDevice(devices_pb2.KickDeviceRequest(user_id=user, device_id="phone"))
    await stub.KickDevice(devices_pb2.KickDeviceRequest(user_id=user, device_id="laptop"))

    await eventually(lambda: transitions(presence, user), [True, False])


async def test_reset_node_publishes_offline_for_users_left_without_a_socket(
    presence, register_connection, new_user, stub, node_id
):
    a, b = new_user(), new_user()
    await register_connection(a, "laptop")
    await register_connection(b, "laptop")
    elsewhere, _ = await register_connection(a, "phone", node="another-edge")

    await stub.ResetNode(devices_pb2.ResetNodeRequest(node_id=node_id))
    await eventually(lambda: transitions(presence, b), [True, False])

    await unregister(stub, elsewhere)  # a's only offline transition is this one
    await eventually(lambda: transitions(presence, a), [True, False])


async def test_the_sweep_publishes_offline_when_the_users_last_row_goes_stale(
    presence, register_connection, new_user, devices_system
):
    user = new_user()
    stale, _ = await register_connection(user, "laptop")
    fresh, _ = await register_connection(user, "phone")

    async def backdate_and_wait(connection_id: str) -> None:
        await devices_system.query(
            "UPDATE user_connections SET last_heartbeat = NOW(3) - INTERVAL 1 DAY WHERE connection_id = %s",
            connection_id)
        await eventually(lambda: devices_system.query(
            "SELECT status FROM user_connections WHERE connection_id = %s", connection_id), [("disconnected",)])

    await backdate_and_wait(stale)
    await backdate_and_wait(fresh)

    await eventually(lambda: transitions(presence, user), [True, False])
