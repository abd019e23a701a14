"""``switchboard.devices.v1.DeviceService``: validates requests, maps protos to the store's values and back.
Domain errors are raised as :mod:`switchboard.errors` classes; the shared interceptor turns them into
statuses."""

from __future__ import annotations

import dataclasses
import logging

import grpc
import nats.errors
from nats.aio.client import Client

from protos import devices_pb2, devices_pb2_grpc
from services.devices.metrics import CONNECTIONS_REGISTERED, KICKS, NODE_RESET_CLOSED
from services.devices.presence import PresencePublisher
from services.devices.settings import Settings
from services.devices.store import Device, DeviceInfo, DeviceStore, NewConnection
from switchboard.contract import RPCS
from switchboard.contract.push_token import registration
from switchboard.contract.schema import DEVICE_INFO
from switchboard.errors import InvalidArgument, Unavailable
from switchboard.nats import Subjects, encode
from switchboard.time import iso

log = logging.getLogger(__name__)

# Limits (column widths of the schema, list sizes) are the contract's: switchboard.contract.rpcs.
ID_MAX_LENGTH = 255
IP_MAX_LENGTH: int = RPCS["RegisterConnection"].field("ip_address").max_len
USER_AGENT_MAX_LENGTH: int = RPCS["RegisterConnection"].field("user_agent").max_len
REASON_MAX_LENGTH: int = RPCS["KickDevice"].field("reason").max_len
MAX_PRESENCE_USERS: int = RPCS["GetPresence"].field("user_ids").max_items
ROLE = RPCS["RegisterDevice"].field("role")
# Bounds the size of the one UPDATE a flush becomes; an edge flushes every few seconds.
MAX_TOUCH_CONNECTIONS: int = RPCS["TouchConnections"].field("connection_ids").max_items
KICK_PUBLISH_TIMEOUT_SECONDS = 5


def _user_id(value: int, field: str = "user_id") -> int:
    if value <= 0:
        raise InvalidArgument(f"{field} must be a positive integer, got {value}")
    return value


def _text(value: str, field: str, max_length: int = ID_MAX_LENGTH, required: bool = True) -> str:
    if required and not value:
        raise InvalidArgument(f"{field} is required")
    if len(value) > max_length:
        raise InvalidArgument(f"{field} is longer than {max_length} characters")
    return value


def _device_info(info: devices_pb2.DeviceInfo) -> DeviceInfo:
    return DeviceInfo(**DEVICE_INFO.check(info))


def _device_pb(device: Device) -> devices_pb2.Device:
    return devices_pb2.Device(
        user_id=device.user_id,
        device_id=device.device_id,
        info=devices_pb2.DeviceInfo(**dataclasses.asdict(device.info)),
        push_token=device.push_token,
        push_provider=device.push_provider,
        is_active=device.is_active,
        last_login=iso(device.last_login),
        online=device.connections > 0,
        connections=device.connections,
    )


class DeviceServicer(devices_pb2_grpc.DeviceServiceServicer):
    def __init__(self, store: DeviceStore, nc: Client, subjects: Subjects, settings: Settings,
                 presence: PresencePublisher) -> None:
        self._store, self._nc, self._subjects, self._settings = store, nc, subjects, settings
        self._presence = presence

    async def RegisterDevice(
        self, request: devices_pb2.RegisterDeviceRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.RegisterDeviceResponse:
        user_id, device_id, info = _user_id(request.user_id), _text(request.device_id, "device_id"), \
            _device_info(request.info)
        device = await self._store.register_device(
            user_id, ROLE.check(request.role), device_id, info, self._settings.max_devices_per_user)
        return devices_pb2.RegisterDeviceResponse(device=_device_pb(device))

    async def ListDevices(
        self, request: devices_pb2.ListDevicesRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.ListDevicesResponse:
        devices = await self._store.list_devices(_user_id(request.user_id))
        return devices_pb2.ListDevicesResponse(devices=[_device_pb(device) for device in devices])

    async def ListPushDevices(
        self, request: devices_pb2.ListPushDevicesRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.ListPushDevicesResponse:
        (user_ids,) = RPCS["ListPushDevices"].check(request).values()
        devices = await self._store.list_push_devices(user_ids)
        return devices_pb2.ListPushDevicesResponse(devices=[_device_pb(device) for device in devices])

    async def KickDevice(
        self, request: devices_pb2.KickDeviceRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.KickDeviceResponse:
        user_id, device_id = _user_id(request.user_id), _text(request.device_id, "device_id")
        reason = _text(request.reason, "reason", REASON_MAX_LENGTH, required=False)
        # The rows are closed first so an edge acting on the event never sees them connected. A kick whose
        # event did not reach NATS fails and may be retried: kicking again is harmless.
        closed = await self._store.kick_device(user_id, device_id)
        KICKS.inc()
        await self._presence.went_offline(closed.went_offline)
        try:
            await self._nc.publish(
                self._subjects.user(user_id),
                encode("kicked", {"device_id": device_id, "reason": reason}, device_id=device_id),
            )
            await self._nc.flush(timeout=KICK_PUBLISH_TIMEOUT_SECONDS)
        except nats.errors.Error as exc:
            raise Unavailable(f"device deactivated but the kick was not delivered to the edges: {exc!r}") from exc
        log.info("device kicked",
                 extra={"user_id": user_id, "device_id": device_id, "connections_closed": closed.count})
        return devices_pb2.KickDeviceResponse(connections_closed=closed.count)

    async def UpdatePushToken(
        self, request: devices_pb2.UpdatePushTokenRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.UpdatePushTokenResponse:
        checked = RPCS["UpdatePushToken"].check(request)
        push = registration(checked["push_provider"], checked["push_token"])
        await self._store.update_push_token(
            _user_id(request.user_id), _text(request.device_id, "device_id"), push.token, push.provider)
        return devices_pb2.UpdatePushTokenResponse()

    async def ClearPushToken(
        self, request: devices_pb2.ClearPushTokenRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.ClearPushTokenResponse:
        checked = RPCS["ClearPushToken"].check(request)
        cleared = await self._store.clear_push_token(
            _user_id(request.user_id), _text(request.device_id, "device_id"), checked["push_token"])
        if cleared:
            log.info("push token cleared (its provider called it invalid)",
                     extra={"user_id": request.user_id, "device_id": request.device_id})
        return devices_pb2.ClearPushTokenResponse(cleared=cleared)

    async def RegisterConnection(
        self, request: devices_pb2.RegisterConnectionRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.RegisterConnectionResponse:
        conn = NewConnection(
            user_id=_user_id(request.user_id),
            connection_id=_text(request.connection_id, "connection_id"),
            socket_id=_text(request.socket_id, "socket_id"),
            device_id=_text(request.device_id, "device_id"),
            node_id=_text(request.node_id, "node_id"),
            ip_address=_text(request.ip_address, "ip_address", IP_MAX_LENGTH, required=False),
            user_agent=_text(request.user_agent, "user_agent", USER_AGENT_MAX_LENGTH, required=False),
        )
        result = await self._store.register_connection(conn, self._settings.max_sockets_per_device)
        CONNECTIONS_REGISTERED.labels(str(result.reconnected).lower()).inc()
        if result.user_came_online:
            await self._presence.came_online(conn.user_id)
        return devices_pb2.RegisterConnectionResponse(
            reconnected=result.reconnected, user_came_online=result.user_came_online
        )

    async def TouchConnections(
        self, request: devices_pb2.TouchConnectionsRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.TouchConnectionsResponse:
        node_id = _text(request.node_id, "node_id")
        if len(request.connection_ids) > MAX_TOUCH_CONNECTIONS:
            raise InvalidArgument(f"at most {MAX_TOUCH_CONNECTIONS} connection_ids per call")
        ids = [_text(connection_id, "connection_ids[]") for connection_id in request.connection_ids]
        return devices_pb2.TouchConnectionsResponse(updated=await self._store.touch_connections(node_id, ids))

    async def UnregisterConnection(
        self, request: devices_pb2.UnregisterConnectionRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.UnregisterConnectionResponse:
        closed = await self._store.unregister_connection(_text(request.connection_id, "connection_id"))
        await self._presence.went_offline(closed.went_offline)
        return devices_pb2.UnregisterConnectionResponse(user_went_offline=bool(closed.went_offline))

    async def ResetNode(
        self, request: devices_pb2.ResetNodeRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.ResetNodeResponse:
        node_id = _text(request.node_id, "node_id")
        closed = await self._store.reset_node(node_id)
        NODE_RESET_CLOSED.inc(closed.count)
        await self._presence.went_offline(closed.went_offline)
        log.info("node reset", extra={"node_id": node_id, "closed": closed.count, "busy_users": closed.busy_users})
        if closed.busy_users:  # the edge retries ResetNode until it succeeds
            raise Unavailable(f"{closed.busy_users} users of node {node_id!r} were busy; their rows stay, retry")
        return devices_pb2.ResetNodeResponse(closed=closed.count)

    async def GetPresence(
        self, request: devices_pb2.GetPresenceRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.GetPresenceResponse:
        if len(request.user_ids) > MAX_PRESENCE_USERS:
            raise InvalidArgument(f"at most {MAX_PRESENCE_USERS} user_ids per call")
        user_ids = [_user_id(user_id, "user_ids[]") for user_id in request.user_ids]
        presences = await self._store.get_presence(user_ids)
        return devices_pb2.GetPresenceResponse(users=[
            devices_pb2.UserPresence(user_id=p.user_id, online=p.online, device_ids=p.device_ids,
                                     last_seen=iso(p.last_seen))
            for p in presences
        ])

    async def GetUserRole(
        self, request: devices_pb2.GetUserRoleRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.GetUserRoleResponse:
        (user_id,) = RPCS["GetUserRole"].check(request).values()
        return devices_pb2.GetUserRoleResponse(role=await self._store.user_role(user_id) or "")

    async def RegistryStats(
        self, request: devices_pb2.RegistryStatsRequest, context: grpc.aio.ServicerContext
    ) -> devices_pb2.RegistryStatsResponse:
        stats = await self._store.registry_stats()
        return devices_pb2.RegistryStatsResponse(
            online_users=stats.online_users, connections=stats.connections, active_devices=stats.active_devices,
            nodes=[devices_pb2.NodeConnections(node_id=node, connections=sockets, users=users)
                   for node, sockets, users in stats.nodes])
