"""The cluster layout on one machine: what ``deploy/cluster/compose.yaml`` runs on several, as real processes on
loopback ports — a NATS cluster, devices and messaging replicas, several edges and nginx in front of them.

The tests drive it to prove the layout (sticky polling, forwarded addresses, draining, one of each component
killed); nothing in it is a stand-in: the services run exactly as :class:`~switchboard.deployment.Deployment`
runs them, the NATS servers are ``nats-server`` routed into one JetStream cluster, nginx is Debian's with the
configuration the deployments mount (:mod:`switchboard.nginx`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from switchboard.deployment import Deployment
from switchboard.nats_cluster import NatsCluster
from switchboard.nginx import LOOPBACK_PROXY_ADDRESS, Nginx


@dataclasses.dataclass(frozen=True)
class Topology:
    nats_servers: int = 3
    messaging: int = 2
    devices: int = 2
    edges: int = 3

    @property
    def stream_replicas(self) -> int:
        """Three copies when the cluster has three servers or more (one may be lost), else one per server."""
        return min(self.nats_servers, 3)


def cluster_env(topology: Topology) -> dict[str, str]:
    """What the services need beyond a single-host deployment: the stream's copies, and nginx's address as the
    edges' one trusted proxy (clients connect from other loopback addresses)."""
    return {"SWITCHBOARD_NATS_REPLICAS": str(topology.stream_replicas),
            "SWITCHBOARD_TRUSTED_PROXIES": f"{LOOPBACK_PROXY_ADDRESS}/32"}


class LoopbackCluster:
    """Starts and stops the layout in order. ``deployment`` runs on ``deployment.nats``, a :class:`NatsCluster`
    not started yet, and carries :func:`cluster_env` in its environment."""

    def __init__(self, deployment: Deployment, workdir: Path, topology: Topology = Topology()) -> None:
        if not isinstance(deployment.nats, NatsCluster):
            raise TypeError("a LoopbackCluster's deployment runs on a NatsCluster")
        self.deployment, self.nats, self.workdir, self.topology = deployment, deployment.nats, workdir, topology
        self.front: Nginx | None = None

    @property
    def url(self) -> str:
        """Where clients connect: nginx."""
        assert self.front is not None, "not started"
        return self.front.url

    async def start(self) -> LoopbackCluster:
        try:
            await self.nats.start()
            await self.deployment.start(edges=self.topology.edges, messaging_replicas=self.topology.messaging,
                                        devices_replicas=self.topology.devices)
            self.front = Nginx(self.workdir / "nginx", [edge.port for edge in self.deployment.edges])
            await self.front.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def stop(self) -> None:
        """Front to back: nginx, the services, NATS."""
        if self.front is not None:
            await self.front.stop()
        await self.deployment.stop()
        await self.nats.stop()
