"""A whole deployment on one machine, started as in production: each service a
``python -m switchboard serve <name>`` process on free loopback ports, configured only through the
environment. The tests and the benchmarks both run the system through this class, so what they exercise is
what ``switchboard up`` and the containers run."""

from __future__ import annotations

import atexit
import dataclasses
import functools
import os
import shutil
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import grpc

from protos import devices_pb2_grpc, messaging_pb2_grpc
from switchboard import certs
from switchboard.auth import Role, issue_token
from switchboard.db import query_once
from switchboard.grpc import Transport, channel, stub
from switchboard.nats_auth import ROLE_OF_SERVICE
from switchboard.nats_cluster import NatsCluster
from switchboard.runner import NatsServer, ServiceProcess, free_port


@functools.cache
def dev_pki() -> Path:
    """One development CA and its certificates per process (a test session, a bench run): made once, in a
    temporary directory removed at exit, so every deployment runs with mutual TLS at no start-up cost."""
    directory = Path(tempfile.mkdtemp(prefix="switchboard-pki-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return certs.ensure(directory)


@dataclasses.dataclass(eq=False)
class Edge:
    node_id: str
    port: int
    process: ServiceProcess
    admin_port: int  # /health, /ready, /metrics

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def ws_url(self) -> str:
        """The raw Engine.IO websocket endpoint, for lean clients that speak the framing themselves."""
        return f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"


class Deployment:
    """Devices and messaging (one or more replicas each) and edge nodes against ``mysql_url`` (already migrated)
    and a running ``nats`` server or cluster, under a NATS prefix of their own. ``extra_env`` tunes them (short
    heartbeat timeouts in tests, lifted send budgets in benchmarks)."""

    def __init__(self, mysql_url: str, nats: NatsServer | NatsCluster, log_dir: Path, jwt_secret: str,
                 extra_env: Mapping[str, str] | None = None, prefix: str | None = None) -> None:
        self.mysql_url, self.nats, self.log_dir, self.jwt_secret = mysql_url, nats, log_dir, jwt_secret
        self.prefix = prefix or f"d{uuid.uuid4().hex[:10]}"
        self.devices_grpc_port, self.messaging_grpc_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "SWITCHBOARD_MYSQL_URL": mysql_url,
            "SWITCHBOARD_NATS_URL": nats.url,
            "SWITCHBOARD_NATS_PREFIX": self.prefix,
            "SWITCHBOARD_JWT_SECRET": jwt_secret,
            "SWITCHBOARD_DEVICES_GRPC_PORT": str(self.devices_grpc_port),
            "SWITCHBOARD_MESSAGING_GRPC_PORT": str(self.messaging_grpc_port),
            "SWITCHBOARD_DEVICES_GRPC_TARGET": f"127.0.0.1:{self.devices_grpc_port}",
            "SWITCHBOARD_MESSAGING_GRPC_TARGET": f"127.0.0.1:{self.messaging_grpc_port}",
            **(extra_env or {}),
        }
        self.pki = dev_pki()
        self.services: dict[str, ServiceProcess] = {}
        self.edges: list[Edge] = []
        self._channels: list[grpc.aio.Channel] = []

    async def start(self, edges: int = 2, messaging_replicas: int = 1, devices_replicas: int = 1) -> Deployment:
        """Callers reach every replica of a service through one channel balancing them round-robin, so a replica
        that dies takes only itself out of rotation."""
        devices_ports = [self.devices_grpc_port] + [free_port() for _ in range(devices_replicas - 1)]
        self.env["SWITCHBOARD_DEVICES_GRPC_TARGET"] = ",".join(f"127.0.0.1:{port}" for port in devices_ports)
        ports = [self.messaging_grpc_port] + [free_port() for _ in range(messaging_replicas - 1)]
        self.env["SWITCHBOARD_MESSAGING_GRPC_TARGET"] = ",".join(f"127.0.0.1:{port}" for port in ports)
        for replica, port in enumerate(devices_ports):
            await self.start_service("devices", name=f"devices-{replica + 1}" if replica else "devices", grpc_port=port)
        for replica, port in enumerate(ports):
            await self.start_service("messaging", name=f"messaging-{replica + 1}" if replica else "messaging",
                                     grpc_port=port)
        for _ in range(edges):
            await self.add_edge()
        return self

    async def start_service(
        self, service: str, name: str | None = None, grpc_port: int | None = None
    ) -> ServiceProcess:
        name = name or service
        http_port = free_port()
        env = {**self.env, **self.nats.auth.env(ROLE_OF_SERVICE[service]), **self.credentials(service).env(),
               f"SWITCHBOARD_{service.upper()}_HTTP_PORT": str(http_port), "SWITCHBOARD_NODE_ID": name}
        if grpc_port is not None:
            env[f"SWITCHBOARD_{service.upper()}_GRPC_PORT"] = str(grpc_port)
        proc = ServiceProcess(service, http_port, env, name=name, log_path=self.log_dir / f"{name}.log")
        await proc.start()
        self.services[name] = proc
        return proc

    async def add_edge(self, node_id: str | None = None, port: int | None = None,
                       admin_port: int | None = None, extra_env: Mapping[str, str] | None = None) -> Edge:
        """``extra_env`` sets this node alone apart (a benchmark comparing one edge setting against another)."""
        node_id = node_id or f"edge-{len(self.edges) + 1}"
        port, admin_port = port or free_port(), admin_port or free_port()
        env = {**self.env, **(extra_env or {}), **self.nats.auth.env("edge"), **self.credentials("edge").env(),
               "SWITCHBOARD_EDGE_PORT": str(port),
               "SWITCHBOARD_EDGE_ADMIN_PORT": str(admin_port), "SWITCHBOARD_NODE_ID": node_id}
        proc = ServiceProcess("connection", admin_port, env, name=node_id, log_path=self.log_dir / f"{node_id}.log")
        await proc.start()
        edge = Edge(node_id, port, proc, admin_port)
        self.edges.append(edge)
        return edge

    async def restart_edge(self, edge: Edge) -> None:
        """Start an edge again on the same ports and node id (after a stop or a kill)."""
        self.edges.remove(edge)
        fresh = await self.add_edge(edge.node_id, edge.port, edge.admin_port)
        edge.process = fresh.process
        self.edges[self.edges.index(fresh)] = edge

    @property
    def pids(self) -> dict[str, int]:
        """Process ids by name (nats-server included: it is on the message path), for CPU and RSS readings."""
        found = {name: p.proc.pid for name, p in self.services.items() if p.proc is not None}
        found.update({e.node_id: e.process.proc.pid for e in self.edges if e.process.proc is not None})
        servers = self.nats.nodes if isinstance(self.nats, NatsCluster) else [self.nats]
        found.update({server.name: server.proc.pid for server in servers if server.proc is not None})
        return found

    def token(self, user_id: int, role: str = "user", ttl: int = 6 * 3600) -> str:
        return issue_token(user_id, cast(Role, role), self.jwt_secret, ttl_seconds=ttl)

    def credentials(self, caller: str) -> certs.TlsFiles:
        """The certificate naming ``caller`` (made on first use), signed by this run's development CA."""
        found = certs.files(self.pki, caller)
        return found if found.cert_file.exists() else certs.issue(self.pki, caller)

    def devices_stub(self, caller: str = "edge") -> devices_pb2_grpc.DeviceServiceStub:
        """A stub calling as ``caller`` (an edge unless told: tests and benchmarks drive internal RPCs too)."""
        return stub(devices_pb2_grpc.DeviceServiceStub, self._channel(self.devices_grpc_port, caller))

    def messaging_stub(self, port: int | None = None, caller: str = "edge") -> messaging_pb2_grpc.MessagingServiceStub:
        return stub(messaging_pb2_grpc.MessagingServiceStub,
                    self._channel(port or self.messaging_grpc_port, caller))

    def _channel(self, port: int, caller: str) -> grpc.aio.Channel:
        ch = channel(f"127.0.0.1:{port}", Transport(self.credentials(caller)))
        self._channels.append(ch)
        return ch

    async def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Read the database directly, to check what the services stored."""
        return await query_once(self.mysql_url, sql, *args)

    async def stop(self) -> None:
        for ch in self._channels:
            await ch.close()
        for edge in self.edges:
            await edge.process.stop()
        for proc in reversed(list(self.services.values())):
            await proc.stop()
