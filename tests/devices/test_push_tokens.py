"""Push registrations (issue #14): the provider stored with the token, inferred when a plain token names none;
a Web Push subscription wider than the old 255-character column; ClearPushToken, the notifications
service's alone, which forgets only the token it names; and ListPushDevices, also its alone, which answers the
pushable devices of a whole batch's recipients in one call."""

from __future__ import annotations

import orjson
import pytest

from protos import devices_pb2
from switchboard.contract import RPCS
from switchboard.errors import Forbidden, InvalidArgument
from tests.devices.conftest import customer_device

pytestmark = pytest.mark.asyncio(loop_scope="session")

SUBSCRIPTION = {"endpoint": "https://push.example.net/send/" + "x" * 400,
                "keys": {"p256dh": "B" * 87, "auth": "a" * 22}}


async def _device(stub, user: int) -> devices_pb2.Device:
    return (await stub.ListDevices(devices_pb2.ListDevicesRequest(user_id=user))).devices[0]


@pytest.mark.parametrize(("provider", "token", "stored_provider"), [
    ("", "ab" * 32, "apns"),
    ("", "fcm-registration:token_1", "fcm"),
    ("", orjson.dumps(SUBSCRIPTION).decode(), "webpush"),
    ("fcm", "ab" * 32, "fcm"),
])
async def test_the_provider_is_stored_or_inferred(stub, new_user, provider, token, stored_provider):
    user = new_user()
    await stub.RegisterDevice(customer_device(user_id=user, device_id="phone"))
    await stub.UpdatePushToken(devices_pb2.UpdatePushTokenRequest(
        user_id=user, device_id="phone", push_token=token, push_provider=provider))
    device = await _device(stub, user)
    assert device.push_provider == stored_provider
    assert len(device.push_token) == len(token) > 0 if stored_provider != "webpush" else \
        orjson.loads(device.push_token) == SUBSCRIPTION


@pytest.mark.parametrize(("provider", "token"), [
    ("gcm", "tok"), ("webpush", "not a subscription"), ("", "has spaces in it"),
    ("webpush", orjson.dumps({"endpoint": "ftp://x", "keys": {"p256dh": "a", "auth": "b"}}).decode()),
])
async def test_bad_registrations_are_refused(stub, new_user, provider, token):
    user = new_user()
    await stub.RegisterDevice(customer_device(user_id=user, device_id="phone"))
    with pytest.raises(InvalidArgument):
        await stub.UpdatePushToken(devices_pb2.UpdatePushTokenRequest(
            user_id=user, device_id="phone", push_token=token, push_provider=provider))


async def test_clear_push_token_forgets_only_the_named_token_and_only_for_notifications(
        devices_system, stub, new_user):
    user = new_user()
    await stub.RegisterDevice(customer_device(user_id=user, device_id="phone"))
    await stub.UpdatePushToken(devices_pb2.UpdatePushTokenRequest(user_id=user, device_id="phone", push_token="new"))
    notifications = devices_system.devices_stub("notifications")
    with pytest.raises(Forbidden):  # an edge may not
        await stub.ClearPushToken(devices_pb2.ClearPushTokenRequest(user_id=user, device_id="phone",
                                                                    push_token="new"))

    stale = await notifications.ClearPushToken(devices_pb2.ClearPushTokenRequest(
        user_id=user, device_id="phone", push_token="old"))
    assert not stale.cleared and (await _device(stub, user)).push_token == "new"

    cleared = await notifications.ClearPushToken(devices_pb2.ClearPushTokenRequest(
        user_id=user, device_id="phone", push_token="new"))
    device = await _device(stub, user)
    assert cleared.cleared and device.push_token == "" and device.push_provider == ""


async def _pushable_phone(stub, user: int, device_id: str = "phone") -> None:
    await stub.RegisterDevice(customer_device(user_id=user, device_id=device_id))
    await stub.UpdatePushToken(devices_pb2.UpdatePushTokenRequest(
        user_id=user, device_id=device_id, push_token=f"fcm-{user}-{device_id}", push_provider="fcm"))


async def test_list_push_devices_answers_only_active_devices_with_a_token_of_many_users_at_once(
        devices_system, stub, new_user):
    many = [new_user() for _ in range(20)]
    for user in many:
        await _pushable_phone(stub, user)
        await stub.RegisterDevice(customer_device(user_id=user, device_id="laptop"))  # no token
    await _pushable_phone(stub, many[0], "tablet")
    await stub.KickDevice(devices_pb2.KickDeviceRequest(user_id=many[0], device_id="tablet"))  # inactive
    await _pushable_phone(stub, many[1], "old-phone")
    await stub.UpdatePushToken(devices_pb2.UpdatePushTokenRequest(  # a token cleared by its user
        user_id=many[1], device_id="old-phone", push_token=""))
    never_registered = new_user()

    reply = await devices_system.devices_stub("notifications").ListPushDevices(
        devices_pb2.ListPushDevicesRequest(user_ids=[*many, never_registered]))

    assert sorted((d.user_id, d.device_id, d.push_token) for d in reply.devices) == \
        sorted((user, "phone", f"fcm-{user}-phone") for user in many)
    assert all(d.is_active and d.push_provider == "fcm" for d in reply.devices)


async def test_list_push_devices_refuses_more_users_than_its_limit_and_callers_but_notifications(
        devices_system, stub, new_user):
    limit = RPCS["ListPushDevices"].field("user_ids").max_items
    notifications = devices_system.devices_stub("notifications")
    with pytest.raises(InvalidArgument, match=f"at most {limit}"):
        await notifications.ListPushDevices(devices_pb2.ListPushDevicesRequest(user_ids=range(1, limit + 2)))
    with pytest.raises(InvalidArgument):
        await notifications.ListPushDevices(devices_pb2.ListPushDevicesRequest(user_ids=[new_user(), -1]))
    with pytest.raises(Forbidden):  # an edge may not
        await stub.ListPushDevices(devices_pb2.ListPushDevicesRequest(user_ids=[new_user()]))
    await notifications.ListPushDevices(devices_pb2.ListPushDevicesRequest(user_ids=range(1, limit + 1)))  # answered
