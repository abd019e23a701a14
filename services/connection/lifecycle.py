"""Connection lifecycle events: connect, register, heartbeat, disconnect, and the caller's own devices."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from protos import devices_pb2
from services.connection import validation as v
from services.connection.dispatch import bind
from services.connection.edge import Edge, check_claimed_user
from services.connection.offline import hold_live, push_pending
from services.connection.registry import Socket
from switchboard.errors import Forbidden, SwitchboardError
from switchboard.time import utc_now_iso

log = logging.getLogger(__name__)


def client_address(environ: dict[str, Any], trusted_proxies: frozenset[str]) -> tuple[str, str]:
    """The client's IP and user agent. The peer address is the client unless the peer is a trusted proxy,
    whose ``X-Forwarded-For`` is then believed (its left-most entry is the original client)."""
    # python-engineio's ASGI driver hard-codes REMOTE_ADDR; the peer is in the ASGI scope.
    client = (environ.get("asgi.scope") or {}).get("client")
    peer = client[0] if client else environ.get("REMOTE_ADDR", "")
    forwarded = environ.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and peer in trusted_proxies:
        peer = forwarded.split(",")[0].strip()
    return peer[:45], environ.get("HTTP_USER_AGENT", "")


def bind_lifecycle(edge: Edge) -> None:
    sio, registry = edge.sio, edge.registry

    @sio.on("connect")
    async def on_connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        ip, user_agent = client_address(environ, edge.settings.trusted_proxy_set)
        sock = Socket(sid=sid, ip=ip, user_agent=user_agent)
        token = auth.get("token") if isinstance(auth, dict) else None
        if token:
            try:
                sock.identity = edge.verifier.verify(token)
            except SwitchboardError as exc:
                raise ConnectionRefusedError(exc.to_reply()["error"]) from None
        registry.add(sock)
        # python-socketio sends its CONNECT packet after this handler returns; the spec's ``connected`` reply
        # must follow it, so it is emitted from a task.
        edge.spawn(sio.emit("connected", {"success": True, "socket_id": sid}, to=sid), "connected")

    @sio.on("disconnect")
    async def on_disconnect(sid: str, *_: Any) -> None:
        sock, last_of_user = registry.remove(sid)
        if sock is None or not sock.registered:
            return
        await edge.forget_connection(sock)
        if last_of_user and sock.identity is not None:
            await edge.fanout.unwatch(sock.identity.user_id)

    async def register(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        claimed_user_id = v.integer(data, "user_id", minimum=1)
        device_id = v.string(data, "device_id")
        connection_id = v.string(data, "connection_id", required=False) or sock.connection_id or str(uuid.uuid4())
        info = v.mapping(data, "device_info")
        device_info = devices_pb2.DeviceInfo(**{
            field: v.string(info, field, required=False, max_len=255 if field == "device_name" else 100)
            for field in ("device_name", "device_type", "platform", "browser", "os_version", "app_version")
        })
        token = data.get("token")
        identity = edge.verifier.verify(token) if token or sock.identity is None else sock.identity
        check_claimed_user({"user_id": claimed_user_id}, identity, "user_id")
        if sock.registered and sock.identity != identity:
            raise Forbidden("this socket is registered to another user")
        await edge.devices.RegisterDevice(devices_pb2.RegisterDeviceRequest(
            user_id=identity.user_id, device_id=device_id, info=device_info))
        await edge.devices.RegisterConnection(devices_pb2.RegisterConnectionRequest(
            user_id=identity.user_id, connection_id=connection_id, socket_id=sock.sid, device_id=device_id,
            node_id=edge.settings.node_id, ip_address=sock.ip, user_agent=sock.user_agent))
        if registry.get(sock.sid) is not sock:  # the socket went away while we were registering it
            await edge.forget_connection(sock)
            raise Forbidden("socket disconnected during registration")
        registry.bind(sock, identity, connection_id, device_id)
        edge.heartbeats.beat(sock)
        # Subscribe before fetching the backlog: a message committed after the fetch arrives live, held until
        # the backlog is out.
        hold_live(sock)
        try:
            await edge.fanout.watch(identity.user_id)
        except BaseException:
            sock.held = None  # no backlog push follows to release them
            raise
        edge.spawn(push_pending(sio, registry, edge.messaging, sock, edge.settings.offline_batch), "offline")
        log.info("registered", extra={"user_id": identity.user_id, "device_id": device_id, "sid": sock.sid})
        return {"success": True, "connection_id": connection_id, "socket_id": sock.sid,
                "message": "连接注册成功", "heartbeat_interval": edge.settings.heartbeat_interval_seconds}

    async def heartbeat(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        connection_id = v.string(data, "connection_id", required=False)
        if connection_id and connection_id != sock.connection_id:
            raise Forbidden("connection_id is not this socket's connection")
        edge.heartbeats.beat(sock)
        return {"success": True, "timestamp": utc_now_iso()}

    async def list_devices(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        assert sock.identity is not None
        reply = await edge.devices.ListDevices(devices_pb2.ListDevicesRequest(user_id=sock.identity.user_id))
        return {"success": True, "devices": [_device(d, current=d.device_id == sock.device_id)
                                             for d in reply.devices]}

    async def kick_device(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        assert sock.identity is not None
        device_id = v.string(data, "device_id")
        reason = v.string(data, "reason", required=False, default="kicked by another device of this user")
        owned = await edge.devices.ListDevices(devices_pb2.ListDevicesRequest(user_id=sock.identity.user_id))
        if device_id not in {d.device_id for d in owned.devices}:
            raise Forbidden("you can only kick your own devices")
        reply = await edge.devices.KickDevice(devices_pb2.KickDeviceRequest(
            user_id=sock.identity.user_id, device_id=device_id, reason=reason))
        return {"success": True, "connections_closed": reply.connections_closed}

    async def update_push_token(sock: Socket, data: dict[str, Any]) -> dict[str, Any]:
        assert sock.identity is not None
        await edge.devices.UpdatePushToken(devices_pb2.UpdatePushTokenRequest(
            user_id=sock.identity.user_id, device_id=sock.device_id, push_token=v.string(data, "push_token")))
        return {"success": True}

    bind(sio, registry, "register", register, registered=False)
    bind(sio, registry, "heartbeat", heartbeat)
    bind(sio, registry, "list_devices", list_devices)
    bind(sio, registry, "kick_device", kick_device)
    bind(sio, registry, "update_push_token", update_push_token)


def _device(d: devices_pb2.Device, current: bool) -> dict[str, Any]:
    return {
        "device_id": d.device_id, "device_name": d.info.device_name, "device_type": d.info.device_type,
        "platform": d.info.platform, "browser": d.info.browser, "os_version": d.info.os_version,
        "app_version": d.info.app_version, "is_active": d.is_active, "last_login": d.last_login,
        "online": d.online, "connections": d.connections, "current": current,
    }


async def close_all(edge: Edge) -> None:
    """On shutdown: close every socket so clients reconnect elsewhere right away."""
    await asyncio.gather(*(edge.close(s) for s in edge.registry.sockets()),
                         return_exceptions=True)
