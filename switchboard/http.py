"""The HTTP face every service shares: ``/health`` (the process is up), ``/ready`` (its dependencies answer)
and ``/metrics`` (Prometheus text format), on a port apart from what clients reach. ``/health`` and ``/ready``
name the process (``pid``), so a supervisor can tell its own child from a stale process holding the port."""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sanic import Request, Sanic, response
from sanic.config import Config

ReadinessCheck = Callable[[], Awaitable[bool]]
ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

log = logging.getLogger(__name__)

# Young-generation collections this far apart: a service allocates per message, and CPython's default (700)
# made the busiest processes collect hundreds of times a second.
GC_GEN0_THRESHOLD = 20_000
# What socket.io connections get to close on SIGTERM before the edge stops: supervisors allow 10 s in all.
EDGE_DRAIN_SECONDS = 3


def create_app(name: str) -> Sanic:
    """A Sanic app with the operational routes. Register readiness checks in ``app.ctx.readiness``."""
    config = Config()
    config.KEEP_ALIVE_TIMEOUT = 75
    config.GRACEFUL_SHUTDOWN_TIMEOUT = 2.0  # probes only; with the gRPC grace, a SIGTERM ends well inside 10 s
    app = Sanic(name, config=config, configure_logging=False)
    app.ctx.readiness = {}

    @app.after_server_start
    async def freeze_startup_heap(_: Sanic) -> None:
        """Move everything start-up allocated (modules, gRPC, Sanic, pools) out of the collector's sight.
        Measured under load: full collections walked that heap and stalled a service's loop 30–50 ms each,
        which is what a p99 sees."""
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])

    @app.get("/health")
    async def health(_: Request) -> response.HTTPResponse:
        return response.json({"status": "ok", "service": name, "pid": os.getpid()})

    @app.get("/ready")
    async def ready(_: Request) -> response.HTTPResponse:
        results: dict[str, bool] = {}
        for check_name, check in app.ctx.readiness.items():
            try:
                results[check_name] = bool(await check())
            except Exception as exc:  # a readiness probe reports, it never raises
                log.warning("readiness check failed", extra={"check": check_name, "error": repr(exc)})
                results[check_name] = False
        ok = all(results.values())
        return response.json({"ready": ok, "checks": results, "pid": os.getpid()}, status=200 if ok else 503)

    @app.get("/metrics")
    async def metrics(_: Request) -> response.HTTPResponse:
        return response.raw(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    return app


def listen(host: str, port: int) -> socket.socket:
    """The service's listening socket, bound before anything starts. A taken port ends the process (exit 1) with
    one clear line: without ``SO_REUSEPORT`` nothing can share it, so a stale process is never joined."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=1024)
    except OSError as exc:
        log.critical("cannot listen on %s:%d: %s; is another process on that port?", host, port, exc.strerror)
        raise SystemExit(1) from None


def serve(app: Sanic, host: str, port: int) -> None:
    """Run Sanic's own server in this process (no Sanic worker manager): one process per service replica, scaled by the
    orchestrator, so SIGTERM/SIGKILL and logs behave like any other process."""
    app.run(sock=listen(host, port), single_process=True, access_log=False, motd=False)


@dataclasses.dataclass(frozen=True)
class Listener:
    host: str
    port: int


def serve_asgi(public: ASGIApp, on: Listener, admin: ASGIApp, admin_on: Listener,
               ws_max_size: int = 16 * 1024 * 1024, ws_compression: str = "no_context_takeover") -> None:
    """Run an ASGI app (the edge: socket.io) under uvicorn in this process, with ``admin`` (the Sanic app: health,
    readiness, metrics) on a port of its own so the public port never serves them. ``admin`` gets the lifespan
    events, so its start/stop listeners run as under Sanic's own server. Both sockets are bound first: uvicorn
    would run the start listeners (which touch shared state) before finding a port taken. Open sockets get
    ``EDGE_DRAIN_SECONDS`` to close on SIGTERM, so a supervisor's 10 s budget holds with clients connected.
    ``ws_compression``: what the websocket handshake negotiates (:mod:`switchboard.ws_compression`)."""
    import uvicorn

    from switchboard.ws_compression import protocol

    if on.port == admin_on.port:
        log.critical("the admin port must differ from the public port (%d)", on.port)
        raise SystemExit(1)
    socks = [listen(on.host, on.port), listen(admin_on.host, admin_on.port)]
    config = uvicorn.Config(by_port(public, admin, socks[1].getsockname()[1]), loop="uvloop",
                            ws=protocol(ws_compression), ws_max_size=ws_max_size, lifespan="on", log_config=None,
                            access_log=False, ws_ping_interval=None, timeout_graceful_shutdown=EDGE_DRAIN_SECONDS,
                            proxy_headers=False)  # X-Forwarded-For is the edge's call (SWITCHBOARD_TRUSTED_PROXIES)
    server = uvicorn.Server(config)
    server.run(sockets=socks)
    if not server.started:
        raise SystemExit(1)


def by_port(public: ASGIApp, admin: ASGIApp, admin_port: int) -> ASGIApp:
    """One ASGI app for two listening sockets: requests that arrived on ``admin_port`` (and the lifespan) go to
    ``admin``, every other request to ``public``."""

    async def route(scope: dict[str, Any], receive: Any, send: Any) -> None:
        server = scope.get("server") or ("", 0)
        app = admin if scope["type"] == "lifespan" or server[1] == admin_port else public
        await app(scope, receive, send)

    return route
