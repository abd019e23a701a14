"""gRPC bootstrap: grpc.aio servers with mutual TLS, per-caller authorization, health, optional reflection,
error mapping and metrics; client channels that present this process's certificate and turn a peer's status back
into a :class:`~switchboard.errors.SwitchboardError`."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar, cast

import grpc
from google.protobuf import descriptor_pool
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import Counter, Histogram

from switchboard.callers import BUILTIN, Authorizer, Caller, Guard
from switchboard.callers import load as load_callers
from switchboard.certs import TlsFiles
from switchboard.errors import CODE_METADATA_KEY, SwitchboardError, from_grpc
from switchboard.settings import CommonSettings

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


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host(address: str) -> str:
    return address.strip().rsplit(":", 1)[0]


@dataclasses.dataclass(frozen=True)
class Transport:
    """How this process speaks gRPC: mutual TLS with ``tls`` or, with ``tls`` None, plaintext without caller
    checks — a development mode that only ever binds or dials loopback addresses."""

    tls: TlsFiles | None

    @classmethod
    def from_settings(cls, settings: CommonSettings) -> Transport:
        """Refuses to start without TLS material unless ``SWITCHBOARD_GRPC_INSECURE`` asks for plaintext."""
        paths = (settings.grpc_ca_file, settings.grpc_cert_file, settings.grpc_key_file)
        if all(paths):
            return cls(TlsFiles(*(Path(p) for p in paths)))
        if any(paths) or not settings.grpc_insecure:
            raise ValueError(
                "gRPC needs SWITCHBOARD_GRPC_CA_FILE, SWITCHBOARD_GRPC_CERT_FILE and SWITCHBOARD_GRPC_KEY_FILE "
                "(`switchboard certs --dir DIR` makes a development set); SWITCHBOARD_GRPC_INSECURE=true allows "
                "plaintext without caller checks, on loopback only")
        return cls(None)

    def require_loopback(self, addresses: Iterable[str]) -> None:
        if self.tls is None and (remote := [a for a in addresses if not is_loopback(_host(a))]):
            raise ValueError(f"SWITCHBOARD_GRPC_INSECURE allows loopback addresses only, not {', '.join(remote)}")

    def _read(self) -> tuple[bytes, bytes, bytes]:
        assert self.tls is not None
        return self.tls.ca_file.read_bytes(), self.tls.cert_file.read_bytes(), self.tls.key_file.read_bytes()

    def server_credentials(self, client_certificates: bool) -> grpc.ServerCredentials:
        """Mutual TLS (a client certificate signed by the CA is required at the handshake), or server-only TLS
        for the token port: grpcio cannot ask for a certificate without requiring one."""
        ca, cert, key = self._read()
        return grpc.ssl_server_credentials([(key, cert)], root_certificates=ca,
                                           require_client_auth=client_certificates)

    def channel_credentials(self) -> grpc.ChannelCredentials:
        ca, cert, key = self._read()
        return grpc.ssl_channel_credentials(ca, key, cert)


@dataclasses.dataclass(frozen=True)
class ServerSecurity:
    """A server's transport, who may call it, an optional token port for backends without a client certificate
    (``host:port``, empty for none) and whether reflection is on."""

    transport: Transport
    callers: tuple[Caller, ...] = BUILTIN
    token_bind: str = ""
    reflection: bool = False

    @classmethod
    def from_settings(cls, settings: CommonSettings, token_port: int) -> ServerSecurity:
        return cls(Transport.from_settings(settings), load_callers(settings.grpc_callers_file),
                   f"{settings.bind_host}:{token_port}" if token_port else "", settings.grpc_reflection)


def _map_errors(method: str, handler: Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]],
                guard: Guard | None) -> Any:
    """Wrap one servicer method: the caller is authorized (``guard``, built for this method at start-up),
    domain errors become statuses (the stable code in trailing metadata), anything unexpected is logged and
    answered INTERNAL, and every call is counted and timed. Wrapping the methods once at start-up costs
    nothing per call, unlike a server interceptor that builds a handler for every RPC."""
    handled, seconds = RPC_HANDLED.labels, RPC_SECONDS.labels(method)

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        started, code = time.perf_counter(), "OK"
        try:
            if guard is not None:
                guard(context)
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


def _wrap_servicer(servicer: Any, full_name: str, authorizer: Authorizer | None) -> None:
    for method in descriptor_pool.Default().FindServiceByName(full_name).methods:
        guard = authorizer.guard(method.name) if authorizer else None
        setattr(servicer, method.name, _map_errors(method.name, getattr(servicer, method.name), guard))


def _add_port(server: grpc.aio.Server, bind: str, credentials: grpc.ServerCredentials | None) -> int:
    try:
        port = server.add_secure_port(bind, credentials) if credentials else server.add_insecure_port(bind)
    except RuntimeError:  # how grpcio reports a failed bind (older versions returned 0)
        port = 0
    if port == 0:
        raise OSError(f"cannot bind gRPC server to {bind}: is another process on that port?")
    return port


class GrpcServer:
    """A grpc.aio server hosting ``servicers`` plus the standard health service (open to any client that
    completes the TLS handshake: it tells only whether the service is serving) and, when asked, reflection."""

    def __init__(self, bind: str, servicers: Iterable[tuple[AddServicer, Any, str]],
                 security: ServerSecurity) -> None:
        self.bind, self.security = bind, security
        self._servicers = list(servicers)
        self._server: grpc.aio.Server | None = None
        self.health = health.aio.HealthServicer()
        self.port = self.token_port = 0

    async def start(self) -> int:
        # grpcio sets SO_REUSEPORT on Linux by default: a second process would bind the port silently and take
        # half the calls. Without it, a taken port fails the bind, and the service's start.
        security, transport = self.security, self.security.transport
        transport.require_loopback([self.bind])
        if transport.tls is None and security.token_bind:
            raise ValueError("a gRPC token port needs TLS: set the SWITCHBOARD_GRPC_*_FILE settings")
        server = grpc.aio.server(options=[*SERVER_KEEPALIVE, ("grpc.so_reuseport", 0)])
        authorizer = Authorizer(security.callers) if transport.tls else None
        names = [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME]
        for add, servicer, full_name in self._servicers:
            _wrap_servicer(servicer, full_name, authorizer)
            add(servicer, server)
            names.append(full_name)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        if security.reflection:
            reflection.enable_server_reflection(names, server)
        if transport.tls is None:
            log.warning("gRPC in plaintext without caller checks (SWITCHBOARD_GRPC_INSECURE), loopback only")
            self.port = _add_port(server, self.bind, None)
        else:
            self.port = _add_port(server, self.bind, transport.server_credentials(client_certificates=True))
            if security.token_bind:
                self.token_port = _add_port(server, security.token_bind,
                                            transport.server_credentials(client_certificates=False))
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


def balanced(target: str) -> bool:
    """Whether ``target`` names several replicas: a comma-separated list, or a ``dns:`` name whose every address
    is one (``dns:///messaging:50051`` behind compose's network aliases or a Kubernetes headless service).
    gRPC's default for a name, pick-first, would send every call to the first address only."""
    return "," in target or target.startswith("dns:")


def channel(target: str, transport: Transport) -> grpc.aio.Channel:
    """A client channel presenting this process's certificate (mutual TLS), with keepalives (a dead peer is
    noticed), fast reconnects, and round-robin over several replicas (:func:`balanced`)."""
    options: list[tuple[str, Any]] = [*CLIENT_KEEPALIVE, *CLIENT_RECONNECT, ("grpc.enable_retries", 1)]
    if balanced(target):
        options.append(("grpc.lb_policy_name", "round_robin"))
    if "," in target:
        # An ``ipv4:`` list has no single host name for TLS to check: every replica's certificate must name the
        # first address's host (what one host:port target would check too). A ``dns:`` target checks its name.
        options.append(("grpc.ssl_target_name_override", target.split(",")[0].strip().rsplit(":", 1)[0]))
    if transport.tls is None:
        transport.require_loopback(target.split(","))
        return grpc.aio.insecure_channel(channel_target(target), options=options)
    return grpc.aio.secure_channel(channel_target(target), transport.channel_credentials(), options=options)


def stub(stub_class: Callable[[grpc.aio.Channel], S], ch: grpc.aio.Channel, timeout: float = 10.0) -> S:
    """``stub(DeviceServiceStub, ch)``: the generated stub, with deadlines and domain-error mapping."""
    return cast(S, _MappedStub(stub_class(ch), timeout))
