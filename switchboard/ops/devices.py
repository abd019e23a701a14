"""``switchboard devices list --user`` and ``switchboard kick``, through the devices service's ListDevices and
KickDevice: a kick deactivates the device and every edge holding one of its sockets closes it (the same path an
admin's kick takes)."""

from __future__ import annotations

from collections.abc import Sequence

from protos import devices_pb2
from switchboard.ops.output import Progress, table
from switchboard.ops.sources import Sources


async def list_devices(src: Sources, user_id: int) -> str:
    reply = await src.devices().ListDevices(devices_pb2.ListDevicesRequest(user_id=user_id))
    rows = [(d.device_id, d.info.device_type, d.info.device_name, d.info.platform, d.online, d.connections,
             d.is_active, d.push_provider, d.last_login) for d in reply.devices]
    return table(("device", "type", "name", "platform", "online", "sockets", "active", "push", "last login"), rows)


async def kick(src: Sources, user_id: int, device_ids: Sequence[str], reason: str) -> str:
    """The devices named, or every active device of the user when none is."""
    devices = src.devices()
    if not device_ids:
        listed = await devices.ListDevices(devices_pb2.ListDevicesRequest(user_id=user_id))
        device_ids = [d.device_id for d in listed.devices if d.is_active]
    progress = Progress("devices kicked", total=len(device_ids))
    rows = []
    for device_id in device_ids:
        reply = await devices.KickDevice(devices_pb2.KickDeviceRequest(user_id=user_id, device_id=device_id,
                                                                        reason=reason))
        rows.append((device_id, reply.connections_closed))
        progress.step()
    progress.finish()
    return table(("device", "sockets closed"), rows)
