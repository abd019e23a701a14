"""The devices service, as the notifications service sees it: a user's devices (push token, provider, live
sockets) in one call, the pushable devices of many users in one call (``ListPushDevices``: the intake's batch),
and forgetting a token a provider refused (``ClearPushToken``; both open to this service's certificate alone)."""

from __future__ import annotations

from collections.abc import Collection

from protos import devices_pb2
from protos.devices_pb2_grpc import DeviceServiceStub


class DeviceDirectory:
    def __init__(self, stub: DeviceServiceStub) -> None:
        self._stub = stub

    async def devices(self, user_id: int) -> list[devices_pb2.Device]:
        reply = await self._stub.ListDevices(devices_pb2.ListDevicesRequest(user_id=user_id))
        return list(reply.devices)

    async def push_devices(self, user_ids: Collection[int]) -> list[devices_pb2.Device]:
        """The active devices with a push token of all of ``user_ids`` (at most the contract's limit, which
        ``push_batch`` is held to), each carrying its ``user_id``: one call for a batch of messages, however many
        recipients it has."""
        reply = await self._stub.ListPushDevices(devices_pb2.ListPushDevicesRequest(user_ids=sorted(user_ids)))
        return list(reply.devices)

    async def clear_token(self, user_id: int, device_id: str, token: str) -> bool:
        reply = await self._stub.ClearPushToken(devices_pb2.ClearPushTokenRequest(
            user_id=user_id, device_id=device_id, push_token=token))
        return bool(reply.cleared)


def pushable(device: devices_pb2.Device, providers: frozenset[str]) -> bool:
    """A device a push can reach: active, with a token of a provider this deployment has configured. Whether it
    has a live socket is asked when the push is due, not now: a phone whose app was backgrounded just as the
    message arrived would otherwise get neither the message nor a push."""
    return device.is_active and bool(device.push_token) and device.push_provider in providers
