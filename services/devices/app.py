"""The devices service process: a Sanic app (``/health``, ``/ready``, ``/metrics``) hosting the gRPC server and
the stale-connection sweep on the same event loop."""

from __future__ import annotations

from sanic import Sanic

from protos.devices_pb2_grpc import add_DeviceServiceServicer_to_server
from services.devices.cleanup import CleanupLoop
from services.devices.grpc_service import DeviceServicer
from services.devices.presence import PresencePublisher
from services.devices.settings import Settings, load_settings
from services.devices.store import DeviceStore
from switchboard import http
from switchboard import logging as sb_logging
from switchboard.db import create_pool
from switchboard.grpc import GrpcServer, ServerSecurity
from switchboard.nats import Subjects
from switchboard.nats import connect as nats_connect

SERVICE_NAME = "switchboard.devices.v1.DeviceService"


def create_app(settings: Settings) -> Sanic:
    app = http.create_app("devices")
    security = ServerSecurity.from_settings(settings, settings.devices_grpc_token_port)  # refuses bad TLS settings

    @app.before_server_start
    async def start(app: Sanic) -> None:
        pool = await create_pool(settings.mysql_url, settings.mysql_pool_size)
        nc = await nats_connect(settings, name=f"devices-{settings.node_id}")
        store = DeviceStore(pool)
        subjects = Subjects(settings.nats_prefix)
        presence = PresencePublisher(nc, subjects)
        servicer = DeviceServicer(store, nc, subjects, settings, presence)
        grpc_server = GrpcServer(
            f"{settings.bind_host}:{settings.devices_grpc_port}",
            [(add_DeviceServiceServicer_to_server, servicer, SERVICE_NAME)], security,
        )
        await grpc_server.start()
        cleanup = CleanupLoop(store, presence, settings.cleanup_interval_seconds, settings.heartbeat_timeout_seconds)
        cleanup.start()
        app.ctx.pool, app.ctx.nc, app.ctx.grpc_server, app.ctx.cleanup = pool, nc, grpc_server, cleanup

        async def nats_connected() -> bool:
            return nc.is_connected

        app.ctx.readiness["mysql"] = store.ping
        app.ctx.readiness["nats"] = nats_connected

    @app.after_server_stop
    async def stop(app: Sanic) -> None:
        await app.ctx.cleanup.stop()
        await app.ctx.grpc_server.stop()
        await app.ctx.nc.drain()
        app.ctx.pool.close()
        await app.ctx.pool.wait_closed()

    return app


def serve() -> None:
    settings = load_settings()
    sb_logging.setup("devices", settings.log_level, settings.log_format)
    http.serve(create_app(settings), settings.bind_host, settings.devices_http_port)
