"""The edge node: socket.io (python-socketio's ASGI driver, hardened in services.connection.server) in front of
a Sanic app for health and metrics, served by uvicorn."""

from __future__ import annotations

import asyncio
import logging

import grpc
import socketio
from prometheus_client import Gauge
from sanic import Sanic

from protos import devices_pb2, devices_pb2_grpc, messaging_pb2_grpc
from services.connection.codec import OrjsonCodec
from services.connection.cors import OriginPolicy
from services.connection.dev_token import refusal as dev_token_refusal
from services.connection.edge import Edge
from services.connection.fanout import Fanout
from services.connection.heartbeats import Heartbeats
from services.connection.lifecycle import client_address, close_all
from services.connection.limits import Limits
from services.connection.namespace import EdgeNamespace
from services.connection.offline import push_pending_to_all
from services.connection.proxies import TrustedProxies
from services.connection.registry import Registry
from services.connection.server import EdgeServer
from services.connection.settings import Settings, load_settings
from services.connection.staff import StaffBroadcasts
from services.connection.typing_relay import TypingRelay
from services.connection.upstream import Upstream
from services.connection.web import create as create_web
from switchboard import http
from switchboard import logging as sb_logging
from switchboard import nats as sb_nats
from switchboard.auth import TokenVerifier, require_strong_secret
from switchboard.contract import MAX_PACKET_BYTES
from switchboard.errors import SwitchboardError
from switchboard.grpc import Transport, channel, stub
from switchboard.http import ReadinessCheck

log = logging.getLogger(__name__)

SOCKETS = Gauge("switchboard_edge_sockets", "Open sockets on this node")
REGISTERED = Gauge("switchboard_edge_registered_sockets", "Registered sockets on this node")


def create_app(settings: Settings) -> tuple[socketio.ASGIApp, Sanic]:
    """socket.io as an ASGI app (the public port) and the Sanic app with health, readiness, metrics and the
    lifespan listeners (the admin port), both served by one uvicorn: measured on this stack (bench/RESULTS.md),
    python-socketio's ASGI driver carries ~40 % more messages per CPU and holds less memory per socket than its
    native Sanic driver, which its own docs call unmaintained."""
    app = http.create_app("connection")
    proxies = TrustedProxies(settings.trusted_proxies)
    registry = Registry()
    transport = Transport.from_settings(settings)  # refuses to start without TLS material
    sio = EdgeServer(
        client_address=lambda environ: client_address(environ, proxies)[0],
        max_connections_per_ip=settings.max_connections_per_ip,
        register_timeout=settings.register_timeout_seconds,
        backlog_limit=settings.socket_backlog_bytes,
        is_registered=lambda sid: (sock := registry.get(sid)) is not None and sock.registered,
        async_mode="asgi",
        json=OrjsonCodec,
        **OriginPolicy.parse(settings.cors_allowed_origins).engineio_options(),
    )
    SOCKETS.set_function(lambda: len(registry))
    REGISTERED.set_function(registry.registered_count)

    @app.before_server_start
    async def start(app: Sanic) -> None:
        devices_channel = channel(settings.devices_grpc_target, transport)
        messaging_channel = channel(settings.messaging_grpc_target, transport)
        async def resync() -> None:
            edge.spawn(push_pending_to_all(sio, registry, edge.messaging, settings.offline_batch), "resync")

        nc = await sb_nats.connect(settings, name=f"edge-{settings.node_id}", on_reconnected=resync)
        edge = Edge(
            settings=settings, sio=sio, registry=registry,
            verifier=TokenVerifier(settings.jwt_secret, settings.jwt_public_key),
            devices=stub(devices_pb2_grpc.DeviceServiceStub, devices_channel),
            messaging=stub(messaging_pb2_grpc.MessagingServiceStub, messaging_channel),
            nc=nc, subjects=sb_nats.Subjects(settings.nats_prefix),
            limits=Limits(settings.rates(), settings.user_rate_multiplier), proxies=proxies,
        )
        edge.typing = TypingRelay(nc, edge.subjects, settings.typing_relay_interval_seconds)
        edge.fanout = Fanout(nc, edge.subjects, sio, registry, edge.kick)
        edge.fanout.start()
        edge.staff = StaffBroadcasts(nc, edge.subjects, sio)
        await edge.staff.start()
        edge.heartbeats = Heartbeats(registry, edge.devices, settings.node_id, settings.heartbeat_flush_seconds,
                                     settings.heartbeat_timeout_seconds, edge.close)
        edge.upstream = Upstream(edge.messaging)
        edge.upstream.start()
        sio.register_namespace(EdgeNamespace(edge))
        edge.spawn(reset_node(edge), "reset-node")
        edge.heartbeats.start()
        app.ctx.edge, app.ctx.channels = edge, (devices_channel, messaging_channel)

        async def nats_ready() -> bool:
            return nc.is_connected

        app.ctx.readiness["nats"] = nats_ready
        app.ctx.readiness["devices"] = channel_ready(devices_channel)
        app.ctx.readiness["messaging"] = channel_ready(messaging_channel)

    @app.before_server_stop
    async def drain(app: Sanic) -> None:
        edge: Edge = app.ctx.edge
        await close_all(edge)
        await edge.heartbeats.stop()
        await edge.upstream.stop()
        await edge.fanout.stop()
        await edge.staff.stop()

    @app.after_server_stop
    async def stop(app: Sanic) -> None:
        edge: Edge = app.ctx.edge
        await edge.nc.drain()
        for ch in app.ctx.channels:
            await ch.close()

    return socketio.ASGIApp(sio, other_asgi_app=create_web(settings)), app


async def reset_node(edge: Edge) -> None:
    """Rows this node left behind when it last stopped (or crashed) are not connected any more. Retried
    until the devices service answers, so the edge may start before it."""
    delay = 0.2
    while True:
        try:
            reply = await edge.devices.ResetNode(devices_pb2.ResetNodeRequest(node_id=edge.settings.node_id))
        except SwitchboardError as exc:
            log.warning("reset of previous connections failed; retrying", extra={"error": exc.message})
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10)
            continue
        log.info("edge started", extra={"node_id": edge.settings.node_id, "stale_rows_closed": reply.closed})
        return


def channel_ready(ch: grpc.aio.Channel) -> ReadinessCheck:
    async def check() -> bool:
        ch.get_state(try_to_connect=True)
        return ch.get_state() == grpc.ChannelConnectivity.READY

    return check


def serve() -> None:
    settings = load_settings()
    require_strong_secret(settings.jwt_secret, settings.jwt_public_key)  # before anything listens
    if refused := dev_token_refusal(settings):
        raise SystemExit(f"switchboard serve connection: {refused}")
    sb_logging.setup("connection", settings.log_level, settings.log_format)
    # A websocket message larger than the largest legal packet is refused by uvicorn as it arrives, before it
    # is buffered whole (its default allows 16 MiB: 40 handshake-only sockets took an edge to 1.5 GiB).
    public, admin = create_app(settings)
    http.serve_asgi(public, http.Listener(settings.bind_host, settings.edge_port),
                    admin, http.Listener(settings.edge_admin_host, settings.edge_admin_port),
                    ws_max_size=MAX_PACKET_BYTES, ws_compression=settings.ws_compression)
