"""An edge node's moving parts in one place, built once at start-up and handed to the event handlers."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from nats.aio.client import Client

from protos import devices_pb2, devices_pb2_grpc, messaging_pb2_grpc
from services.connection.limits import Limits
from services.connection.proxies import TrustedProxies
from services.connection.registry import Registry, Socket
from services.connection.server import EdgeServer
from services.connection.settings import Settings
from switchboard.auth import Identity, TokenVerifier
from switchboard.errors import Forbidden, SwitchboardError
from switchboard.nats import Subjects

if TYPE_CHECKING:
    from services.connection.fanout import Fanout
    from services.connection.heartbeats import Heartbeats
    from services.connection.staff import StaffBroadcasts
    from services.connection.typing_relay import TypingRelay
    from services.connection.upstream import Upstream

log = logging.getLogger(__name__)


@dataclasses.dataclass(eq=False)
class Edge:
    settings: Settings
    sio: EdgeServer
    registry: Registry
    verifier: TokenVerifier
    devices: devices_pb2_grpc.DeviceServiceStub
    messaging: messaging_pb2_grpc.MessagingServiceStub
    nc: Client
    subjects: Subjects
    limits: Limits
    proxies: TrustedProxies
    # Built right after the edge, because they call back into it (kick, close).
    fanout: Fanout = dataclasses.field(init=False)
    staff: StaffBroadcasts = dataclasses.field(init=False)
    heartbeats: Heartbeats = dataclasses.field(init=False)
    upstream: Upstream = dataclasses.field(init=False)
    typing: TypingRelay = dataclasses.field(init=False)
    _tasks: set[asyncio.Task[Any]] = dataclasses.field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run work after an ack has gone out, keeping a reference so the task is not collected mid-way."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self, sock: Socket) -> None:
        """Close the socket's connection (engine.io), so the client cannot carry on in it."""
        await self.sio.close_socket(sock.sid)

    async def kick(self, sock: Socket, reason: str) -> None:
        await self.sio.emit("kicked", {"device_id": sock.device_id, "reason": reason}, to=sock.sid)
        await self.close(sock)

    async def forget_connection(self, sock: Socket) -> None:
        """Tell the registry the socket is gone. Failures are logged: the devices service's stale-connection
        cleanup closes the row later anyway."""
        try:
            await self.devices.UnregisterConnection(
                devices_pb2.UnregisterConnectionRequest(connection_id=sock.connection_id)
            )
        except SwitchboardError as exc:
            log.warning("unregister failed", extra={"connection_id": sock.connection_id, "error": exc.message})


def check_claimed_user(args: dict[str, Any], identity: Identity, *fields: str) -> None:
    """Identity comes from the token; a user id the client typed must agree with it, or the event is refused."""
    for field in fields:
        claimed = args.get(field)
        if claimed and claimed != identity.user_id:
            raise Forbidden(f"{field} does not match the authenticated user")
