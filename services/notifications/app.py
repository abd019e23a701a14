"""The notifications service process: Sanic for ``/health`` ``/ready`` ``/metrics``, the inbox consumer
(intake.py) and the sender (sender.py) on one event loop. It serves no RPC: it reads the inbox stream, the
devices service (as the ``notifications`` gRPC caller) and its own table."""

from __future__ import annotations

import logging

from nats.aio.client import Client
from sanic import Sanic

from protos.devices_pb2_grpc import DeviceServiceStub
from services.notifications.devices import DeviceDirectory
from services.notifications.intake import Intake
from services.notifications.messages import MessageReader
from services.notifications.providers.factory import build_providers
from services.notifications.sender import Sender
from services.notifications.settings import Settings, load_settings
from services.notifications.store import PushStore
from switchboard import db, http
from switchboard import logging as sb_logging
from switchboard import nats as sb_nats
from switchboard.grpc import Transport, channel, stub

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> Sanic:
    app = http.create_app("notifications")
    transport = Transport.from_settings(settings)  # refuses to start without TLS material (or the insecure flag)

    @app.before_server_start
    async def start(app: Sanic) -> None:
        pool = await db.create_pool(settings.mysql_url, settings.mysql_pool_size)
        nc = await sb_nats.connect(settings, name=f"notifications-{settings.node_id}")
        devices_channel = channel(settings.devices_grpc_target, transport)
        directory = DeviceDirectory(stub(DeviceServiceStub, devices_channel))
        store, providers = PushStore(pool), build_providers(settings)
        sender = Sender(store, directory, MessageReader(pool), providers, settings)
        sender.start()
        app.ctx.pool, app.ctx.nc, app.ctx.devices_channel = pool, nc, devices_channel
        app.ctx.sender, app.ctx.providers = sender, providers

        async def nats_connected() -> bool:
            return nc.is_connected

        app.ctx.readiness["mysql"] = store.ping
        app.ctx.readiness["nats"] = nats_connected
        app.ctx.intake = _start_intake(app, nc, store, directory, frozenset(providers), settings)
        log.info("notifications started", extra={"providers": sorted(providers), "node_id": settings.node_id})

    @app.after_server_stop
    async def stop(app: Sanic) -> None:
        if app.ctx.intake is not None:
            await app.ctx.intake.stop()
        await app.ctx.sender.stop()
        for provider in app.ctx.providers.values():
            await provider.close()
        await app.ctx.devices_channel.close()
        if app.ctx.nc.is_connected:
            await app.ctx.nc.drain()
        else:
            await app.ctx.nc.close()
        app.ctx.pool.close()
        await app.ctx.pool.wait_closed()

    return app


def _start_intake(app: Sanic, nc: Client, store: PushStore, directory: DeviceDirectory,
                  providers: frozenset[str], settings: Settings) -> Intake | None:
    """The inbox consumer, only when a provider is configured: without one nothing can ever be sent, and reading
    every stored message only to drop it cost ~0.11 cores at chat rates (bench/RESULTS.md Session 4). Readiness
    then waits for no consumer. A provider configured later binds it then: created anew it starts at new
    messages; one left by an earlier run with a provider resumes where that run stopped (the sender cancels
    what was read meanwhile, and collapses the rest to one alert per device and session)."""
    if not providers:
        log.warning("no push provider configured: the inbox consumer is not bound and no push is scheduled")
        return None
    intake = Intake(nc, sb_nats.Subjects(settings.nats_prefix), store, directory, providers, settings)
    intake.start()

    async def consuming() -> bool:
        return intake.bound

    app.ctx.readiness["inbox_consumer"] = consuming
    return intake


def serve() -> None:
    settings = load_settings()
    sb_logging.setup("notifications", settings.log_level, settings.log_format)
    http.serve(create_app(settings), settings.bind_host, settings.notifications_http_port)
