"""Push registrations (issue #14): the provider stored with the token, inferred when a plain token names none;
a Web Push subscription wider than the old 255-character column; and ClearPushToken, the notifications
service's alone, which forgets only the token it names."""

from __future__ import annotations

import orjson
import pytest

from protos import devices_pb2
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
