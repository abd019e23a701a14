"""Authenticated gRPC: every RPC of both services, called by real servers' callers without credentials, with
another caller's credentials and with an edge's, over mutual TLS and the token port; reflection off by default;
the settings that would weaken any of it refused at start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2_grpc

from protos import devices_pb2, messaging_pb2  # noqa: F401 - registers the services' descriptors
from services.devices.app import SERVICE_NAME as DEVICES
from services.messaging.app import SERVICE_NAME as MESSAGING
from switchboard import callers, certs
from switchboard.contract import RPCS
from switchboard.errors import CODE_METADATA_KEY
from switchboard.grpc import Transport
from switchboard.runner import NatsServer, free_port
from switchboard.settings import CommonSettings
from tests.support.system import System

# What the brief asks, written out here rather than read from the contract the servers enforce.
INTERNAL = {"RegisterConnection", "TouchConnections", "UnregisterConnection", "ResetNode", "SendMessageBatch",
            "MarkDeliveredBatch", "ClearPushToken", "ListPushDevices", "RegistryStats", "GetUserRole"}
# A token a push provider refused is forgotten by notifications alone; its intake alone asks for a batch's
# pushable devices.
NOTIFICATIONS_ONLY = {"ClearPushToken", "ListPushDevices"}
OPERATOR_ONLY = {"RegistryStats"}  # the registry's counts, for switchboard status
# The operator tools read sessions, history and devices, kick, and send system messages (switchboard.ops).
OPERATOR_METHODS = {"GetSession", "ListSessions", "SyncHistory", "SendSystemMessage", "ListDevices", "KickDevice",
                    *OPERATOR_ONLY}
NOTIFICATIONS_METHODS = {"ListDevices", *NOTIFICATIONS_ONLY}
CRM_TOKEN = "crm-token-for-tests-0123456789abcdef"
CRM_METHODS = {"SendSystemMessage", "GetSession", "ListDevices"}  # calls with a bearer token
REPORTS_METHODS = {"SyncHistory", "GetPresence"}  # calls with a client certificate named "reports"
# An allowed call reached its handler: it was answered, or its (empty) request refused.
REACHED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND}
Status = tuple[grpc.StatusCode, str | None]


class Target:
    """Both services' mutual-TLS and token ports of one deployment."""

    def __init__(self, system: System, token_ports: dict[str, int]) -> None:
        self.system, self.token_ports = system, token_ports
        self.ports = {DEVICES: system.devices_grpc_port, MESSAGING: system.messaging_grpc_port}
        self.ca = certs.files(system.pki, "edge").ca_file.read_bytes()

    def tls(self, caller: str | None = None, pki: Path | None = None) -> grpc.ChannelCredentials:
        """Server-verified TLS presenting ``caller``'s certificate (from ``pki``, this run's CA unless told)."""
        if caller is None:
            return grpc.ssl_channel_credentials(self.ca)
        files = self.system.credentials(caller) if pki is None else certs.files(pki, caller)
        return grpc.ssl_channel_credentials(self.ca, files.key_file.read_bytes(), files.cert_file.read_bytes())

    def bearer(self, token: str) -> grpc.ChannelCredentials:
        return grpc.composite_channel_credentials(self.tls(), grpc.access_token_call_credentials(token))


def _service_of(rpc: str) -> str:
    return MESSAGING if RPCS[rpc].service == "MessagingService" else DEVICES


async def call(port: int, rpc: str, credentials: grpc.ChannelCredentials | None) -> Status:
    """An empty request to ``rpc``: authorization comes before any check of the request, so a caller that may
    call it gets the request refused (or answered), never UNAUTHENTICATED or PERMISSION_DENIED."""
    method = descriptor_pool.Default().FindServiceByName(_service_of(rpc)).methods_by_name[rpc]
    request = message_factory.GetMessageClass(method.input_type)()
    response = message_factory.GetMessageClass(method.output_type)
    target = f"127.0.0.1:{port}"
    async with (grpc.aio.secure_channel(target, credentials) if credentials
                else grpc.aio.insecure_channel(target)) as ch:
        unary = ch.unary_unary(f"/{_service_of(rpc)}/{rpc}", request_serializer=type(request).SerializeToString,
                               response_deserializer=response.FromString)
        try:
            await unary(request, timeout=10)
        except grpc.aio.AioRpcError as exc:
            codes = [v for k, v in exc.trailing_metadata() or () if k == CODE_METADATA_KEY]
            return exc.code(), (codes[0] if codes else None)
    return grpc.StatusCode.OK, None


@pytest.fixture(scope="module")
async def target(mysql_url: str, nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[Target]:
    work = tmp_path_factory.mktemp("grpc-auth")
    callers_file = work / "callers.json"
    callers_file.write_text(json.dumps({
        "crm": {"methods": sorted(CRM_METHODS), "token_sha256": callers.token_digest(CRM_TOKEN)},
        "reports": {"methods": sorted(REPORTS_METHODS)},
    }))
    token_ports = {DEVICES: free_port(), MESSAGING: free_port()}
    system = System(mysql_url, nats_server, work, extra_env={
        "SWITCHBOARD_GRPC_CALLERS_FILE": str(callers_file),
        "SWITCHBOARD_DEVICES_GRPC_TOKEN_PORT": str(token_ports[DEVICES]),
        "SWITCHBOARD_MESSAGING_GRPC_TOKEN_PORT": str(token_ports[MESSAGING]),
    })
    try:
        await system.start_service("devices")
        await system.start_service("messaging")
        yield Target(system, token_ports)
    finally:
        await system.stop()


ALL = sorted(RPCS)


def test_the_contract_declares_the_internal_rpcs() -> None:
    assert {name for name, rpc in RPCS.items() if "backend" not in rpc.callers} == INTERNAL
    assert {name for name, rpc in RPCS.items() if "edge" not in rpc.callers} == NOTIFICATIONS_ONLY | OPERATOR_ONLY


@pytest.mark.parametrize("rpc", ALL)
async def test_no_credentials_are_refused(target: Target, rpc: str) -> None:
    port, token_port = target.ports[_service_of(rpc)], target.token_ports[_service_of(rpc)]
    # Plaintext, and TLS without a client certificate, fail the mutual-TLS handshake: no call reaches a handler.
    assert (await call(port, rpc, None))[0] == grpc.StatusCode.UNAVAILABLE
    assert (await call(port, rpc, target.tls()))[0] == grpc.StatusCode.UNAVAILABLE
    # The token port completes TLS without a certificate, then wants a known token.
    unauthenticated = (grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED")
    assert await call(token_port, rpc, target.tls()) == unauthenticated
    assert await call(token_port, rpc, target.bearer("not-a-token-of-anyone")) == unauthenticated
    assert (await call(token_port, rpc, None))[0] == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("rpc", ALL)
async def test_a_certificate_of_another_ca_is_refused(target: Target, rpc: str,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    foreign = certs.ensure(tmp_path_factory.getbasetemp() / "foreign-ca")
    status = await call(target.ports[_service_of(rpc)], rpc, target.tls("edge", pki=foreign))
    assert status[0] == grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize("rpc", ALL)
async def test_an_edge_may_call_everything_but_the_notifications_and_operator_rpcs(target: Target, rpc: str) -> None:
    status = await call(target.ports[_service_of(rpc)], rpc, target.tls("edge"))
    if rpc in NOTIFICATIONS_ONLY | OPERATOR_ONLY:
        assert status == (grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")
    else:
        assert status[0] in REACHED


# The services' own certificates, each open to what its service calls and nothing else.
SERVICE_CALLERS = {"notifications": NOTIFICATIONS_METHODS, "operator": OPERATOR_METHODS,
                   "messaging": {"GetPresence", "GetUserRole"}}


@pytest.mark.parametrize("caller", sorted(SERVICE_CALLERS))
@pytest.mark.parametrize("rpc", ALL)
async def test_a_service_caller_may_call_what_its_service_uses_only(target: Target, rpc: str, caller: str) -> None:
    status = await call(target.ports[_service_of(rpc)], rpc, target.tls(caller))
    if rpc in SERVICE_CALLERS[caller]:
        assert status[0] in REACHED
    else:
        assert status == (grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")


@pytest.mark.parametrize("rpc", ALL)
async def test_a_token_backend_gets_what_its_entry_lists(target: Target, rpc: str) -> None:
    status = await call(target.token_ports[_service_of(rpc)], rpc, target.bearer(CRM_TOKEN))
    if rpc in CRM_METHODS:
        assert status[0] in REACHED
    else:  # internal RPCs, and public ones its entry does not list
        assert status == (grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")


@pytest.mark.parametrize("rpc", ALL)
async def test_a_certificate_backend_gets_what_its_entry_lists(target: Target, rpc: str) -> None:
    status = await call(target.ports[_service_of(rpc)], rpc, target.tls("reports"))
    if rpc in REPORTS_METHODS:
        assert status[0] in REACHED
    else:
        assert status == (grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")


@pytest.mark.parametrize("rpc", ["SendMessage", "RegisterConnection"])
async def test_a_certificate_of_an_unlisted_name_is_forbidden(target: Target, rpc: str) -> None:
    """``devices`` holds a valid certificate of the CA but is nobody's caller."""
    status = await call(target.ports[_service_of(rpc)], rpc, target.tls("devices"))
    assert status == (grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN")


async def test_reflection_is_off_and_health_answers_over_tls(target: Target) -> None:
    for service, port in target.ports.items():
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", target.tls("edge")) as ch:
            # Opened without sending: a request racing the server's immediate UNIMPLEMENTED would end the call
            # as a client-side send failure (INTERNAL) instead of the server's status.
            listing = reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(timeout=10)
            assert await listing.code() == grpc.StatusCode.UNIMPLEMENTED
        # Health needs the TLS handshake only: a probe that verifies the server but holds no identity.
        async with grpc.aio.secure_channel(f"127.0.0.1:{target.token_ports[service]}", target.tls()) as ch:
            reply = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=service))
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_a_service_without_tls_material_refuses_to_start() -> None:
    env = {"PATH": "/usr/bin:/bin", "SWITCHBOARD_DEVICES_HTTP_PORT": str(free_port())}
    done = subprocess.run([sys.executable, "-m", "switchboard", "serve", "devices"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0
    assert "SWITCHBOARD_GRPC_CA_FILE" in done.stderr


def test_plaintext_needs_the_explicit_setting_and_stays_on_loopback() -> None:
    with pytest.raises(ValueError, match="SWITCHBOARD_GRPC_INSECURE"):
        Transport.from_settings(CommonSettings())
    with pytest.raises(ValueError, match="SWITCHBOARD_GRPC_CA_FILE"):  # half a set is a mistake, not plaintext
        Transport.from_settings(CommonSettings(grpc_insecure=True, grpc_cert_file="edge.pem"))
    plaintext = Transport.from_settings(CommonSettings(grpc_insecure=True))
    plaintext.require_loopback(["127.0.0.1:50051", "localhost:1", "[::1]:2"])
    with pytest.raises(ValueError, match="loopback"):
        plaintext.require_loopback(["0.0.0.0:50051"])
    with pytest.raises(ValueError, match="loopback"):
        plaintext.require_loopback(["127.0.0.1:50051", "messaging:50051"])


def test_a_backend_entry_cannot_reach_internal_rpcs_or_take_a_service_name() -> None:
    with pytest.raises(ValueError, match="internal"):
        callers.backend("crm", ["SendSystemMessage", "ResetNode"])
    with pytest.raises(ValueError, match="no such RPC"):
        callers.backend("crm", ["DropDatabase"])
    with pytest.raises(ValueError, match="reserved"):
        callers.backend("edge", ["GetSession"])
