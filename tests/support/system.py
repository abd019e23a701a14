"""The whole system started as in production: each service is a ``python -m switchboard serve`` process on
free ports, against a fresh MySQL database and a private nats-server."""

from __future__ import annotations

import dataclasses
import os
import uuid
from pathlib import Path

import aiomysql

from protos import devices_pb2_grpc, messaging_pb2_grpc
from switchboard.auth import issue_token
from switchboard.db import MySQLURL
from switchboard.grpc import channel
from switchboard.runner import NatsServer, ServiceProcess, free_port

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256"


@dataclasses.dataclass
class Edge:
    node_id: str
    port: int
    process: ServiceProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class System:
    """Services of one deployment. ``extra_env`` tunes them (short heartbeat timeouts in tests, say)."""

    def __init__(self, mysql_url: str, nats: NatsServer, log_dir: Path, extra_env: dict[str, str] | None = None):
        self.mysql_url, self.nats, self.log_dir = mysql_url, nats, log_dir
        self.prefix = f"t{uuid.uuid4().hex[:10]}"
        self.devices_grpc_port, self.messaging_grpc_port = free_port(), free_port()
        self.env = {
            **os.environ,
            "SWITCHBOARD_MYSQL_URL": mysql_url,
            "SWITCHBOARD_NATS_URL": nats.url,
            "SWITCHBOARD_NATS_PREFIX": self.prefix,
            "SWITCHBOARD_JWT_SECRET": JWT_SECRET,
            "SWITCHBOARD_LOG_LEVEL": "INFO",
            # Tests send as fast as they can; the rate limit has its own test with its own settings.
            "SWITCHBOARD_SEND_RATE_PER_SECOND": "100000",
            "SWITCHBOARD_SEND_BURST": "100000",
            "SWITCHBOARD_DEVICES_GRPC_PORT": str(self.devices_grpc_port),
            "SWITCHBOARD_MESSAGING_GRPC_PORT": str(self.messaging_grpc_port),
            "SWITCHBOARD_DEVICES_GRPC_TARGET": f"127.0.0.1:{self.devices_grpc_port}",
            "SWITCHBOARD_MESSAGING_GRPC_TARGET": f"127.0.0.1:{self.messaging_grpc_port}",
            **(extra_env or {}),
        }
        self.services: dict[str, ServiceProcess] = {}
        self.edges: list[Edge] = []
        self._channels: list = []

    async def start(self, edges: int = 2, messaging_replicas: int = 1) -> System:
        await self.start_service("devices")
        for replica in range(messaging_replicas):
            await self.start_service("messaging", name=f"messaging-{replica + 1}" if replica else "messaging",
                                     grpc_port=self.messaging_grpc_port if replica == 0 else free_port())
        for _ in range(edges):
            await self.add_edge()
        return self

    async def start_service(
        self, service: str, name: str | None = None, grpc_port: int | None = None
    ) -> ServiceProcess:
        name = name or service
        http_port = free_port()
        env = {**self.env, f"SWITCHBOARD_{service.upper()}_HTTP_PORT": str(http_port), "SWITCHBOARD_NODE_ID": name}
        if grpc_port is not None:
            env[f"SWITCHBOARD_{service.upper()}_GRPC_PORT"] = str(grpc_port)
        proc = ServiceProcess(service, http_port, env, name=name, log_path=self.log_dir / f"{name}.log")
        await proc.start()
        self.services[name] = proc
        return proc

    async def add_edge(self, node_id: str | None = None, port: int | None = None) -> Edge:
        node_id = node_id or f"edge-{len(self.edges) + 1}"
        port = port or free_port()
        env = {**self.env, "SWITCHBOARD_EDGE_PORT": str(port), "SWITCHBOARD_NODE_ID": node_id}
        proc = ServiceProcess("connection", port, env, name=node_id, log_path=self.log_dir / f"{node_id}.log")
        await proc.start()
        edge = Edge(node_id, port, proc)
        self.edges.append(edge)
        return edge

    async def restart_edge(self, edge: Edge) -> None:
        """Start an edge again on the same port and node id (after a stop or a kill)."""
        self.edges.remove(edge)
        fresh = await self.add_edge(edge.node_id, edge.port)
        edge.process = fresh.process
        self.edges[self.edges.index(fresh)] = edge

    def token(self, user_id: int, role: str = "user", ttl: int = 3600) -> str:
        return issue_token(user_id, role, JWT_SECRET, ttl_seconds=ttl)  # type: ignore[arg-type]

    def devices_stub(self) -> devices_pb2_grpc.DeviceServiceStub:
        ch = channel(f"127.0.0.1:{self.devices_grpc_port}")
        self._channels.append(ch)
        return devices_pb2_grpc.DeviceServiceStub(ch)

    def messaging_stub(self, port: int | None = None) -> messaging_pb2_grpc.MessagingServiceStub:
        ch = channel(f"127.0.0.1:{port or self.messaging_grpc_port}")
        self._channels.append(ch)
        return messaging_pb2_grpc.MessagingServiceStub(ch)

    async def query(self, sql: str, *args: object) -> list[tuple]:
        """Read the database directly, to check what the services stored."""
        conn = await aiomysql.connect(**MySQLURL.parse(self.mysql_url).connect_kwargs())
        try:
            async with conn.cursor() as cur:
                await cur.execute(sql, args)
                return list(await cur.fetchall())
        finally:
            conn.close()

    async def stop(self) -> None:
        for ch in self._channels:
            await ch.close()
        for edge in self.edges:
            await edge.process.stop()
        for proc in reversed(list(self.services.values())):
            await proc.stop()
