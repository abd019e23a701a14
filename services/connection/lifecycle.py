"""Connection lifecycle events: connect, register (and token refresh), heartbeat, disconnect, and the caller's own
devices. Methods of the namespace (services.connection.namespace); payloads arrive parsed and authorized."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

import socketio

from protos import devices_pb2
from services.connection.edge import check_claimed_user
from services.connection.offline import hold_live, push_pending
from services.connection.proxies import TrustedProxies
from services.connection.registry import Socket
from switchboard.auth import Identity
from switchboard.contract import RPCS
from switchboard.errors import Forbidden, NotFound, SwitchboardError, Unauthenticated
from switchboard.time import utc_now_iso

if TYPE_CHECKING:
    from services.connection.edge import Edge

log = logging.getLogger(__name__)

USER_AGENT_MAX: int = RPCS["RegisterConnection"].field("user_agent").max_len


def client_address(environ: dict[str, Any], trusted_proxies: TrustedProxies) -> tuple[str, str]:
    """The client's IP and user agent: the peer, or behind trusted proxies the right-most untrusted hop of
    ``X-Forwarded-For`` (:mod:`services.connection.proxies`)."""
    # python-engineio's ASGI driver hard-codes REMOTE_ADDR; the peer is in the ASGI scope.
    client = (environ.get("asgi.scope") or {}).get("client")
    peer = client[0] if client else environ.get("REMOTE_ADDR", "")
    ip = trusted_proxies.client(peer, environ.get("HTTP_X_FORWARDED_FOR", ""))
    return ip[:45], environ.get("HTTP_USER_AGENT", "")


class LifecycleEvents:
    """python-socketio's ``connect``/``disconnect`` calls, and the events about the socket and its device."""

    edge: Edge

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        edge = self.edge
        ip, user_agent = client_address(environ, edge.proxies)
        sock = Socket(sid=sid, ip=ip, user_agent=user_agent[:USER_AGENT_MAX])
        token = auth.get("token") if isinstance(auth, dict) else None
        if token:
            try:
                self._authenticate(sock, token)
            except SwitchboardError as exc:  # connect_error {message, data: {code, reason, message}}
                raise socketio.exceptions.ConnectionRefusedError(exc.message, exc.to_reply()["error"]) from None
        edge.registry.add(sock)
        # python-socketio sends its CONNECT packet after this handler returns; the spec's ``connected`` reply
        # must follow it, so it is emitted from a task.
        edge.spawn(edge.sio.emit("connected", {"success": True, "socket_id": sid}, to=sid), "connected")

    async def on_disconnect(self, sid: str, *_: Any) -> None:
        edge = self.edge
        edge.typing.forget(sid)
        sock, last_of_user = edge.registry.remove(sid)
        if sock is None or not sock.registered:
            return
        await edge.forget_connection(sock)
        if last_of_user and sock.identity is not None:
            edge.limits.forget_user(sock.identity.user_id)
            await edge.fanout.unwatch(sock.identity.user_id)

    def _authenticate(self, sock: Socket, token: str) -> Identity:
        """Verify ``token`` and make it the socket's identity until it expires."""
        identity, expires = self.edge.verifier.verify_until(token)
        sock.identity, sock.expires_at = identity, time.monotonic() + (expires - time.time())
        return identity

    async def on_register(self, sock: Socket, args: dict[str, Any]) -> dict[str, Any]:
        edge = self.edge
        if args["token"]:
            if sock.identity is not None and edge.verifier.verify(args["token"]) != sock.identity:
                raise Forbidden("this socket belongs to another user")
            identity = self._authenticate(sock, args["token"])
        elif sock.identity is None:
            raise Unauthenticated("a token is required", reason="TOKEN_MISSING")
        elif time.monotonic() >= sock.expires_at:
            raise Unauthenticated("token expired; register with a fresh token", reason="TOKEN_EXPIRED")
        else:
            identity = sock.identity
        check_claimed_user(args, identity, "user_id")
        if sock.registered:  # a token refresh (or a repeat): the socket stays as it is
            return self._registered(sock)
        device_id = args["device_id"]
        connection_id = args["connection_id"] or str(uuid.uuid4())
        await edge.devices.RegisterDevice(devices_pb2.RegisterDeviceRequest(
            user_id=identity.user_id, role=identity.role, device_id=device_id,
            info=devices_pb2.DeviceInfo(**args["device_info"])))
        await edge.devices.RegisterConnection(devices_pb2.RegisterConnectionRequest(
            user_id=identity.user_id, connection_id=connection_id, socket_id=sock.sid, device_id=device_id,
            node_id=edge.settings.node_id, ip_address=sock.ip, user_agent=sock.user_agent))
        if edge.registry.get(sock.sid) is not sock:  # the socket went away while we were registering it
            sock.connection_id = connection_id
            await edge.forget_connection(sock)
            raise Forbidden("socket disconnected during registration")
        edge.registry.bind(sock, identity, connection_id, device_id)
        edge.heartbeats.beat(sock)
        await edge.staff.join(sock)  # before the reply: a console lists the queue next, then follows the pushes
        # Subscribe before fetching the backlog: a message committed after the fetch arrives live, held until
        # the backlog is out.
        hold_live(sock)
        try:
            await edge.fanout.watch(identity.user_id)
        except BaseException:
            sock.held = None  # no backlog push follows to release them
            raise
        edge.spawn(push_pending(edge.sio, edge.registry, edge.messaging, sock, edge.settings.offline_batch),
                   "offline")
        log.info("registered", extra={"user_id": identity.user_id, "device_id": device_id, "sid": sock.sid})
        return self._registered(sock)

    def _registered(self, sock: Socket) -> dict[str, Any]:
        return {"success": True, "connection_id": sock.connection_id, "socket_id": sock.sid,
                "message": "连接注册成功", "heartbeat_interval": self.edge.settings.heartbeat_interval_seconds}

    async def on_heartbeat(self, sock: Socket, args: dict[str, Any]) -> dict[str, Any]:
        if args["connection_id"] and args["connection_id"] != sock.connection_id:
            raise Forbidden("connection_id is not this socket's connection")
        self.edge.heartbeats.beat(sock)
        return {"success": True, "timestamp": utc_now_iso()}

    async def on_list_devices(self, sock: Socket, args: dict[str, Any]) -> dict[str, Any]:
        assert sock.identity is not None
        reply = await self.edge.devices.ListDevices(devices_pb2.ListDevicesRequest(user_id=sock.identity.user_id))
        return {"success": True, "devices": [_device(d, current=d.device_id == sock.device_id)
                                             for d in reply.devices]}

    async def on_kick_device(self, sock: Socket, args: dict[str, Any]) -> dict[str, Any]:
        assert sock.identity is not None
        devices, user_id = self.edge.devices, sock.identity.user_id
        owned = await devices.ListDevices(devices_pb2.ListDevicesRequest(user_id=user_id))
        if args["device_id"] not in {d.device_id for d in owned.devices}:
            raise NotFound("no such device among yours")  # another user's device id is not confirmed either
        reply = await devices.KickDevice(devices_pb2.KickDeviceRequest(
            user_id=user_id, device_id=args["device_id"],
            reason=args["reason"] or "kicked by another device of this user"))
        return {"success": True, "connections_closed": reply.connections_closed}

    async def on_update_push_token(self, sock: Socket, args: dict[str, Any]) -> dict[str, Any]:
        assert sock.identity is not None
        push = args["push_token"]  # a contract Registration: (provider, token), checked and inferred once
        await self.edge.devices.UpdatePushToken(devices_pb2.UpdatePushTokenRequest(
            user_id=sock.identity.user_id, device_id=sock.device_id, push_token=push.token,
            push_provider=push.provider))
        return {"success": True}


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
