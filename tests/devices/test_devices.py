"""Devices: registration, listing, the per-user cap, push tokens and kicks."""

from __future__ import annotations

import asyncio
import urllib.request
from datetime import datetime

import nats
import pytest

from protos import devices_pb2
from switchboard.errors import LimitExceeded, NotFound
from switchboard.nats import Subjects, decode
from tests.devices.conftest import MAX_DEVICES, customer_device

pytestmark = pytest.mark.asyncio(loop_scope="session")


def info(**fields: str) -> devices_pb2.DeviceInfo:
    return devices_pb2.DeviceInfo(**{"device_name": "Laptop", "device_type": "desktop", "platform": "Linux",
                                     "browser": "Firefox", "os_version": "6.1", "app_version": "1.0.0", **fields})


async def test_a_registered_device_is_listed_active_and_offline(stub, new_user):
    user = new_user()
    reply = await stub.RegisterDevice(customer_device(user_id=user, device_id="d1", info=info()))

    assert reply.device.device_id == "d1" and reply.device.is_active and not reply.device.online
    assert reply.device.info.browser == "Firefox"
    assert reply.device.last_login.endswith("Z")
    datetime.fromisoformat(reply.device.last_login)
    listed = await stub.ListDevices(devices_pb2.ListDevicesRequest(user_id=user))
    assert [d.device_id for d in listed.devices] == ["d1"]
    assert listed.devices[0] == reply.device


async def test_registering_the_same_device_again_updates_it(stub, new_user, devices_system):
    user = new_user()
    await stub.RegisterDevice(customer_device(user_id=user, device_id="d1", info=info()))
    again = await stub.RegisterDevice(customer_device(
        user_id=user, device_id="d1", info=info(app_version="2.0.0", device_type="")))

    assert again.device.info.app_version == "2.0.0"
    assert again.device.info.device_type == "other"  # empty means other
    rows = await devices_system.query("SELECT COUNT(*) FROM user_devices WHERE user_id = %s", user)
    assert rows == [(1,)]


async def test_a_device_beyond_the_cap_is_refused_but_known_devices_still_register(stub, new_user):
    user = new_user()
    for n in range(MAX_DEVICES):
        await stub.RegisterDevice(customer_device(user_id=user, device_id=f"d{n}"))

    with pytest.raises(LimitExceeded) as exc:
        await stub.RegisterDevice(customer_device(user_id=user, device_id="one-too-many"))
    assert exc.value.code == "LIMIT_EXCEEDED"
    await stub.RegisterDevice(customer_device(user_id=user, device_id="d0"))


async def test_a_kicked_device_frees_its_place_under_the_cap(stub, new_user):
    user = new_user()
    for n in range(MAX_DEVICES):
        await stub.RegisterDevice(customer_device(user_id=user, device_id=f"d{n}"))
    await stub.KickDevice(devices_pb2.KickDeviceRequest(user_id=user, device_id="d0", reason="lost"))

    await stub.RegisterDevice(customer_device(user_id=user, device_id="new"))
    with pytest.raises(LimitExceeded):  # coming back counts like a new device
        await stub.RegisterDevice(customer_device(user_id=user, device_id="d0"))


async def test_push_token_is_stored_for_a_known_device_only(stub, new_user):
    user = new_user()
    await stub.RegisterDevice(customer_device(user_id=user, device_id="phone"))
    await stub.UpdatePushToken(devices_pb2.UpdatePushTokenRequest(user_id=user, device_id="phone", push_token="tok"))

    listed = await stub.ListDevices(devices_pb2.ListDevicesRequest(user_id=user))
    assert listed.devices[0].push_token == "tok"
    with pytest.raises(NotFound):
        await stub.UpdatePushToken(devices_pb2.UpdatePushTokenRequest(user_id=new_user(), device_id="phone",
                                                                      push_token="tok"))


async def test_list_devices_counts_each_devices_connected_sockets(stub, new_user, register_connection):
    user = new_user()
    for device in ("laptop", "phone"):
        await stub.RegisterDevice(customer_device(user_id=user, device_id=device))
    await register_connection(user, "laptop")
    await register_connection(user, "laptop")

    listed = {d.device_id: d for d in (await stub.ListDevices(devices_pb2.ListDevicesRequest(user_id=user))).devices}
    assert (listed["laptop"].online, listed["laptop"].connections) == (True, 2)
    assert (listed["phone"].online, listed["phone"].connections) == (False, 0)


async def test_kick_publishes_kicked_closes_the_devices_sockets_and_deactivates_it(
    stub, new_user, register_connection, devices_system
):
    user = new_user()
    for device in ("stolen", "mine"):
        await stub.RegisterDevice(customer_device(user_id=user, device_id=device))
    await register_connection(user, "stolen")
    await register_connection(user, "stolen")
    await register_connection(user, "mine")
    nc = await nats.connect(devices_system.nats.admin_url)
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def on_message(msg) -> None:
        await received.put(msg.data)

    try:
        await nc.subscribe(Subjects(devices_system.prefix).user(user), cb=on_message)
        await nc.flush()
        reply = await stub.KickDevice(devices_pb2.KickDeviceRequest(user_id=user, device_id="stolen", reason="lost"))
        event = decode(await asyncio.wait_for(received.get(), 10))
    finally:
        await nc.close()

    assert reply.connections_closed == 2
    assert event == {"event": "kicked", "data": {"device_id": "stolen", "reason": "lost"}, "device_id": "stolen"}
    listed = {d.device_id: d for d in (await stub.ListDevices(devices_pb2.ListDevicesRequest(user_id=user))).devices}
    assert not listed["stolen"].is_active and listed["stolen"].connections == 0
    assert listed["mine"].is_active and listed["mine"].connections == 1


async def test_kicking_a_device_of_another_user_is_not_found(stub, new_user):
    owner, intruder = new_user(), new_user()
    await stub.RegisterDevice(customer_device(user_id=owner, device_id="d1"))

    with pytest.raises(NotFound) as exc:
        await stub.KickDevice(devices_pb2.KickDeviceRequest(user_id=intruder, device_id="d1"))
    assert exc.value.code == "NOT_FOUND"
    listed = await stub.ListDevices(devices_pb2.ListDevicesRequest(user_id=owner))
    assert listed.devices[0].is_active


async def test_concurrent_registrations_never_exceed_the_cap(stub, new_user, devices_system):
    user = new_user()
    results = await asyncio.gather(*(
        stub.RegisterDevice(customer_device(user_id=user, device_id=f"d{n}"))
        for n in range(MAX_DEVICES * 3)
    ), return_exceptions=True)

    assert sum(not isinstance(r, BaseException) for r in results) == MAX_DEVICES
    assert all(isinstance(r, LimitExceeded) for r in results if isinstance(r, BaseException))
    rows = await devices_system.query("SELECT COUNT(*) FROM user_devices WHERE user_id = %s", user)
    assert rows == [(MAX_DEVICES,)]


async def test_the_service_exports_its_registry_counters(devices_system):
    url = f"http://127.0.0.1:{devices_system.services['devices'].http_port}/metrics"

    def fetch() -> str:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.read().decode()

    metrics = await asyncio.to_thread(fetch)
    for name in ("connections_registered", "stale_connections_closed", "kicks", "node_reset_closed"):
        assert f"switchboard_devices_{name}_total" in metrics
