"""A ``dns:`` gRPC target is balanced over every address its name resolves to: compose gives the replicas of
devices and messaging one name each (network aliases, deploy/cluster/compose.yaml) and its DNS answers that
name with every replica. Here: two real TLS servers on one port of two loopback addresses, and a DNS server of
the test's own answering the name with both, as Docker's does."""

from __future__ import annotations

import asyncio
import collections
import socket
import struct
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest

from switchboard import certs
from switchboard.grpc import Transport, balanced, channel
from switchboard.runner import free_port

REPLICAS = ("127.0.0.1", "127.0.0.2")
A, IN = 1, 1


class NameServer(asyncio.DatagramProtocol):
    """Answers every A query with ``addresses`` (other types: no records), enough for gRPC's resolver."""

    def __init__(self, addresses: Sequence[str]) -> None:
        self.addresses = addresses
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        end = 12
        while data[end]:  # the question's name: length-prefixed labels, then a zero
            end += data[end] + 1
        question = data[12:end + 5]
        (qtype,) = struct.unpack(">H", data[end + 1:end + 3])
        records = [b"\xc0\x0c" + struct.pack(">HHIH", A, IN, 5, 4) + socket.inet_aton(a)  # name: the question's
                   for a in (self.addresses if qtype == A else ())]
        header = struct.pack(">HHHHHH", struct.unpack(">H", data[:2])[0], 0x8180, 1, len(records), 0, 0)
        self.transport.sendto(header + question + b"".join(records), addr)


@pytest.fixture
async def replicas(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """A ``dns:`` target naming two replicas of ``devices`` (each answers with its address), and the CA dir."""
    pki = certs.ensure(tmp_path)
    port = free_port()
    servers = []
    for address in REPLICAS:
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Replica", {
            "Name": grpc.unary_unary_rpc_method_handler(lambda _req, _ctx, a=address: a.encode())}),))
        credentials = Transport(certs.files(pki, "devices")).server_credentials(client_certificates=True)
        server.add_secure_port(f"{address}:{port}", credentials)
        await server.start()
        servers.append(server)
    dns, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: NameServer(REPLICAS), local_addr=("127.0.0.1", 0))
    try:
        yield f"dns://127.0.0.1:{dns.get_extra_info('sockname')[1]}/devices:{port}", pki
    finally:
        dns.close()
        for server in servers:
            await server.stop(0)


async def test_a_dns_target_spreads_calls_over_every_address_of_its_name(replicas: tuple[str, Path]) -> None:
    target, pki = replicas
    ch = channel(target, Transport(certs.files(pki, "edge")))  # TLS checks the name: "devices"
    try:
        name = ch.unary_unary("/test.Replica/Name")
        answered = collections.Counter([(await name(b"", timeout=10)).decode() for _ in range(20)])
    finally:
        await ch.close()
    assert set(answered) == set(REPLICAS), answered  # pick-first would have sent all 20 to one


def test_which_targets_are_balanced() -> None:
    assert balanced("dns:///messaging:50051") and balanced("10.0.0.1:50051,10.0.0.2:50051")
    assert not balanced("messaging:50051") and not balanced("127.0.0.1:50051")
