"""The messaging service process: Sanic for ``/health`` ``/ready`` ``/metrics``, the gRPC server, the batch
writer, the retry worker, the delivery sweep, the retention clean-up and the presence forwarder, all on one
event loop."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from nats.aio.client import Client
from sanic import Sanic

from protos.devices_pb2 import GetPresenceRequest, GetUserRoleRequest
from protos.devices_pb2_grpc import DeviceServiceStub
from protos.messaging_pb2_grpc import add_MessagingServiceServicer_to_server
from services.messaging.grpc_service import MessagingServicer
from services.messaging.presence import PresenceForwarder
from services.messaging.publisher import Publisher
from services.messaging.receipts import Receipts
from services.messaging.retention import Retention
from services.messaging.retry_queue import RetryWorker
from services.messaging.sending import Sending
from services.messaging.sessions import RoleOf
from services.messaging.settings import Settings, load_settings
from services.messaging.store import Store
from services.messaging.sweep import DeliverySweep, OnlineLookup
from services.messaging.writer import BatchWriter
from switchboard import db, http
from switchboard import logging as sb_logging
from switchboard import nats as sb_nats
from switchboard.grpc import GrpcServer, ServerSecurity, channel, stub

log = logging.getLogger(__name__)

SERVICE_NAME = "switchboard.messaging.v1.MessagingService"


def create_app(settings: Settings) -> Sanic:
    app = http.create_app("messaging")
    security = ServerSecurity.from_settings(settings, settings.messaging_grpc_token_port)  # refuses bad TLS settings

    @app.before_server_start
    async def start(app: Sanic) -> None:
        pool = await db.create_pool(settings.mysql_url, settings.mysql_pool_size, multi_statements=True)
        store = Store(pool)

        async def nats_back() -> None:
            await app.ctx.retry_worker.nats_back()

        nc = await sb_nats.connect(settings, name=f"messaging-{settings.node_id}", on_reconnected=nats_back)
        subjects = sb_nats.Subjects(settings.nats_prefix)
        publisher = Publisher(nc, subjects, store, settings)
        await publisher.ensure_stream()
        writer = BatchWriter(store, settings.writers, settings.batch_max)
        writer.start()
        receipts = Receipts(store, publisher, settings.batch_max)
        receipts.start()
        sending = Sending(writer, publisher, store)
        devices_channel = channel(settings.devices_grpc_target, security.transport)
        devices = stub(DeviceServiceStub, devices_channel)
        servicer = MessagingServicer(store, sending, publisher, receipts, settings, role_lookup(devices))
        grpc_server = GrpcServer(f"{settings.bind_host}:{settings.messaging_grpc_port}",
                                 [(add_MessagingServiceServicer_to_server, servicer, SERVICE_NAME)], security)
        await grpc_server.start()
        retry_worker = RetryWorker(store, publisher, settings)
        app.ctx.retry_worker = retry_worker
        retry_worker.start()
        sweep = DeliverySweep(store, publisher, online_lookup(devices), settings)
        sweep.start()
        retention = Retention(pool, db.MySQLURL.parse(settings.mysql_url).database, settings)
        retention.start()
        presence = PresenceForwarder(nc, subjects, store, publisher)
        await presence.start()
        app.ctx.pool, app.ctx.nc, app.ctx.writer, app.ctx.receipts = pool, nc, writer, receipts
        app.ctx.grpc_server, app.ctx.presence, app.ctx.sending = grpc_server, presence, sending
        app.ctx.sweep, app.ctx.devices_channel, app.ctx.retention = sweep, devices_channel, retention
        app.ctx.readiness["mysql"] = store.ping
        app.ctx.readiness["nats"] = _nats_connected(nc)
        log.info("messaging started", extra={"grpc_port": grpc_server.port, "node_id": settings.node_id})

    @app.after_server_stop
    async def stop(app: Sanic) -> None:
        """In dependency order: no new RPCs (in-flight ones finish), then the workers, then the connections."""
        await app.ctx.grpc_server.stop()
        await app.ctx.sending.drain()
        await app.ctx.presence.stop()
        await app.ctx.sweep.stop()
        await app.ctx.retention.stop()
        await app.ctx.devices_channel.close()
        await app.ctx.retry_worker.stop()
        await app.ctx.writer.stop()
        await app.ctx.receipts.stop()
        if app.ctx.nc.is_connected:
            await app.ctx.nc.drain()  # flushes what is buffered
        else:
            await app.ctx.nc.close()  # draining needs a connection; what is buffered is in MySQL anyway
        app.ctx.pool.close()
        await app.ctx.pool.wait_closed()

    return app


def online_lookup(devices: DeviceServiceStub) -> OnlineLookup:
    """The delivery sweep's question to the devices service: which of these users have a live socket."""
    async def online(user_ids: Iterable[int]) -> set[int]:
        reply = await devices.GetPresence(GetPresenceRequest(user_ids=sorted(user_ids)))
        return {u.user_id for u in reply.users if u.online}

    return online


def role_lookup(devices: DeviceServiceStub) -> RoleOf:
    """A transfer's question to the devices service: the role a user id is bound to."""
    async def role_of(user_id: int) -> str:
        return str((await devices.GetUserRole(GetUserRoleRequest(user_id=user_id))).role)

    return role_of


def _nats_connected(nc: Client) -> http.ReadinessCheck:
    async def check() -> bool:
        return nc.is_connected

    return check


def serve() -> None:
    settings = load_settings()
    sb_logging.setup("messaging", settings.log_level, settings.log_format)
    http.serve(create_app(settings), settings.bind_host, settings.messaging_http_port)
