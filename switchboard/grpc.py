"""gRPC bootstrap: grpc.aio servers with health, reflection, error mapping and metrics; client channels that
turn a peer's status back into a :class:`~switchboard.errors.SwitchboardError`."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, cast

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import Counter, Histogram

from switchboard.errors import CODE_METADATA_KEY, SwitchboardError, from_grpc

log = logging.getLogger(__name__)

RPC_HANDLED = Counter("switchboard_grpc_server_handled_total", "RPCs handled", ["method", "code"])
RPC_SECONDS = Histogram(
    "switchboard_grpc_server_handling_seconds", "RPC handling time", ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

AddServicer = Callable[[Any, grpc.aio.Server], None]
S = TypeVar("S")

# Clients ping idle connections so a dead peer is noticed; the server must accept those pings, or it answers
# GOAWAY "too many pings" and every channel breaks after a quiet minute.
KEEPALIVE_MS = 20_000
CLIENT_KEEPALIVE = [
    ("grpc.keepalive_time_ms", KEEPALIVE_MS),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]
SERVER_KEEPALIVE = [
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", KEEPALIVE_MS // 2),
    ("grpc.http2.min_ping_interval_without_data_ms", KEEPALIVE_MS // 2),
    ("grpc.http2.max_ping_strikes", 0),
]


def _map_errors(method: str, handler: Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]) -> Any:
    """Wrap one servicer method: domain errors become statuses (the stable code in trailing metadata),
    anything unexpected is logged and answered INTERNAL, and every call is counted and timed. Wrapping the
    methods once at start-up costs nothing per call, unlike a server interceptor that builds a handler for
    every RPC."""
    handled, seconds = RPC_HANDLED.labels, RPC_SECONDS.labels(method)

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        started, code = time.perf_counter(), "OK"
        try:
            return await handler(request, context)
        except SwitchboardError as exc:
            code = exc.code
            context.set_trailing_metadata(((CODE_METADATA_KEY, exc.code),))
            await context.abort(exc.grpc_status, exc.message)
        except grpc.aio.AbortError:
            code = "ABORTED"
            raise
        except Exception:
            code = "INTERNAL"
            log.exception("rpc failed", extra={"method": method})
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        finally:
            handled(method, code).inc()
            seconds.observe(time.perf_counter() - started)

    return unary


def _wrap_servicer(servicer: Any, full_name: str) -> None:
    for method in descriptor_pool.Default().FindServiceByName(full_name).methods:
        setattr(servicer, method.name, _map_errors(method.name, getattr(servicer, method.name)))


class GrpcServer:
    """A grpc.aio server hosting ``servicers`` plus the standard health and reflection services."""

    def __init__(self, bind: str, servicers: Iterable[tuple[AddServicer, Any, str]]) -> None:
        self.bind = bind
        self._servicers = list(servicers)
        self._server: grpc.aio.Server | None = None
        self.health = health.aio.HealthServicer()
        self.port = 0

    async def start(self) -> int:
        # grpcio sets SO_REUSEPORT on Linux by default: a second process would bind the port silently and take
        # half the calls. Without it, a taken port fails the bind, and the service's start.
        server = grpc.aio.server(options=[*SERVER_KEEPALIVE, ("grpc.so_reuseport", 0)])
        names = [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME]
        for add, servicer, full_name in self._servicers:
            _wrap_servicer(servicer, full_name)
            add(servicer, server)
            names.append(full_name)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(names, server)
        try:
            self.port = server.add_insecure_port(self.bind)
        except RuntimeError:  # how grpcio reports a failed bind (older versions returned 0)
            self.port = 0
        if self.port == 0:
            raise OSError(f"cannot bind gRPC server to {self.bind}: is another process on that port?")
        await server.start()
        for _, _, full_name in self._servicers:
            await self.health.set(full_name, health_pb2.HealthCheckResponse.SERVING)
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        self._server = server
        return self.port

    async def stop(self, grace: float = 3.0) -> None:
        """In-flight calls get ``grace`` seconds (they take milliseconds): a SIGTERM must end a service within 10 s."""
        if self._server is not None:
            await self.health.enter_graceful_shutdown()
            await self._server.stop(grace)
            self._server = None


class _MappedStub:
    """A generated stub whose calls get a deadline and raise the peer's domain error instead of a raw
    AioRpcError. A plain wrapper, not a client interceptor: grpc.aio runs every intercepted call in an extra
    task, which the edge pays on every message."""

    def __init__(self, stub: Any, timeout: float) -> None:
        self._stub, self._timeout = stub, timeout

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method, default_timeout = getattr(self._stub, name), self._timeout

        async def call(request: Any, timeout: float | None = None) -> Any:
            try:
                return await method(request, timeout=timeout or default_timeout)
            except grpc.aio.AioRpcError as exc:
                raise from_grpc(exc) from None

        setattr(self, name, call)  # built once per method
        return call


# gRPC's default reconnect backoff (1 s, ×1.6, up to 120 s) kept a channel refusing calls for seconds after
# its peer was back (measured ~4 s after a 5 s outage): reconnect attempts stay at most a second apart.
CLIENT_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1_000),
]


def channel_target(target: str) -> str:
    """``host:port`` as is; ``host:port,host:port`` (several replicas) as one ``ipv4:`` target that the
    channel balances round-robin, so a replica that dies only takes its own connection out of rotation."""
    addresses = [a.strip() for a in target.split(",") if a.strip()]
    return addresses[0] if len(addresses) == 1 else "ipv4:" + ",".join(addresses)


def channel(target: str) -> grpc.aio.Channel:
    """A client channel with keepalives (a dead peer is noticed), fast reconnects, and round-robin over
    several comma-separated replicas."""
    options: list[tuple[str, Any]] = [*CLIENT_KEEPALIVE, *CLIENT_RECONNECT, ("grpc.enable_retries", 1)]
    if "," in target:
        options.append(("grpc.lb_policy_name", "round_robin"))
    return grpc.aio.insecure_channel(channel_target(target), options=options)


def stub(stub_class: Callable[[grpc.aio.Channel], S], ch: grpc.aio.Channel, timeout: float = 10.0) -> S:
    """``stub(DeviceServiceStub, ch)``: the generated stub, with deadlines and domain-error mapping."""
    return cast(S, _MappedStub(stub_class(ch), timeout))
