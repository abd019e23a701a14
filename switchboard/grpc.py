"""gRPC bootstrap: grpc.aio servers with health, reflection, error mapping and metrics; client channels that
turn a peer's status back into a :class:`~switchboard.errors.SwitchboardError`."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import Counter, Histogram

from switchboard.errors import CODE_METADATA_KEY, SwitchboardError, Unavailable, from_grpc

log = logging.getLogger(__name__)

RPC_HANDLED = Counter("switchboard_grpc_server_handled_total", "RPCs handled", ["method", "code"])
RPC_SECONDS = Histogram(
    "switchboard_grpc_server_handling_seconds", "RPC handling time", ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)

AddServicer = Callable[[Any, grpc.aio.Server], None]

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


class _ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Maps domain errors to statuses in one place; anything unexpected is logged and answered INTERNAL."""

    async def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner, method = handler.unary_unary, details.method.rsplit("/", 1)[-1]

        async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started, code = time.perf_counter(), "OK"
            try:
                return await inner(request, context)
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
                RPC_HANDLED.labels(method, code).inc()
                RPC_SECONDS.labels(method).observe(time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            unary, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class GrpcServer:
    """A grpc.aio server hosting ``servicers`` plus the standard health and reflection services."""

    def __init__(self, bind: str, servicers: Iterable[tuple[AddServicer, Any, str]]) -> None:
        self.bind = bind
        self._servicers = list(servicers)
        self._server: grpc.aio.Server | None = None
        self.health = health.aio.HealthServicer()
        self.port = 0

    async def start(self) -> int:
        server = grpc.aio.server(interceptors=[_ErrorInterceptor()], options=SERVER_KEEPALIVE)
        names = [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME]
        for add, servicer, full_name in self._servicers:
            add(servicer, server)
            names.append(full_name)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        reflection.enable_server_reflection(names, server)
        self.port = server.add_insecure_port(self.bind)
        if self.port == 0:
            raise OSError(f"cannot bind gRPC server to {self.bind}")
        await server.start()
        for _, _, full_name in self._servicers:
            await self.health.set(full_name, health_pb2.HealthCheckResponse.SERVING)
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        self._server = server
        return self.port

    async def stop(self, grace: float = 5.0) -> None:
        if self._server is not None:
            await self.health.enter_graceful_shutdown()
            await self._server.stop(grace)
            self._server = None


class _ErrorMappingClientInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Gives every call a deadline and raises the peer's domain error instead of a raw AioRpcError."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout

    async def intercept_unary_unary(
        self, continuation: Callable[..., Awaitable[Any]], details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        if details.timeout is None:
            details = details._replace(timeout=self._timeout)  # type: ignore[attr-defined]
        try:
            call = await continuation(details, request)
            return await call
        except grpc.aio.AioRpcError as exc:
            raise from_grpc(exc) from None
        except OSError as exc:
            raise Unavailable(str(exc)) from exc


def channel(target: str, timeout: float = 10.0) -> grpc.aio.Channel:
    """A client channel with keepalives (so a dead peer is noticed) and domain-error mapping."""
    return grpc.aio.insecure_channel(
        target,
        options=[*CLIENT_KEEPALIVE, ("grpc.enable_retries", 1)],
        interceptors=[_ErrorMappingClientInterceptor(timeout)],
    )
