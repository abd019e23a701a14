"""The cluster layout on one machine: what ``deploy/cluster/compose.yaml`` runs on several, as real processes on
loopback ports — a NATS cluster, devices and messaging replicas, the notifications service, several edges and
nginx in front of them.

The tests drive it to prove the layout (sticky polling, forwarded addresses, draining, one of each component
killed), and ``python -m switchboard.cluster`` keeps it up to try by hand (until Ctrl-C), with the operator tools
pointed at it (``switchboard status --data-dir <its workdir>``). Nothing in it is a
stand-in: the services run exactly as :class:`~switchboard.deployment.Deployment`
runs them, the NATS servers are ``nats-server`` routed into one JetStream cluster, nginx is Debian's with the
configuration the deployments mount (:mod:`switchboard.nginx`).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import tempfile
from pathlib import Path

from switchboard.cli import STOP_SIGNALS, check_mysql, migration_folders, operator_env
from switchboard.contract.rpcs import OPERATOR as OPERATOR_CALLER
from switchboard.datadir import DataDir
from switchboard.deployment import Deployment
from switchboard.migrate import migrate
from switchboard.nats_cluster import NatsCluster
from switchboard.nginx import LOOPBACK_PROXY_ADDRESS, Nginx
from switchboard.settings import CommonSettings


@dataclasses.dataclass(frozen=True)
class Topology:
    nats_servers: int = 3
    messaging: int = 2
    devices: int = 2
    edges: int = 3
    notifications: int = 1  # replicas share its consumer and claim pushes under leases: any count works

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
            for replica in range(self.topology.notifications):
                await self.deployment.start_service(
                    "notifications", name=f"notifications-{replica + 1}" if replica else "notifications")
            self.front = Nginx(self.workdir / "nginx", [edge.port for edge in self.deployment.edges])
            await self.front.start()
        except BaseException:
            await self.stop()
            raise
        return self

    def operator_env(self) -> dict[str, str]:
        """The operator tools' settings for this layout: every edge's admin address, the gRPC targets balanced
        over the replicas, MySQL, and the operator's own NATS user and client certificate."""
        self.deployment.credentials(OPERATOR_CALLER)  # made on first use
        return operator_env(self.deployment.env, self.nats.auth, self.deployment.pki,
                            [edge.admin_url for edge in self.deployment.edges])

    async def stop(self) -> None:
        """Front to back: nginx, the services, NATS. The notifications replicas go with nginx: nothing waits for
        them, and each spends seconds letting its consumer go, which the other stops need not add to."""
        await asyncio.gather(*([self.front.stop()] if self.front is not None else []),
                             *(process.stop() for process in self.deployment.services.values()
                               if process.service == "notifications"))
        await self.deployment.stop()
        await self.nats.stop()


async def run(topology: Topology, data_dir: str | None) -> None:
    """Migrate, start the layout on free ports, print where it is, and stop it all at a stop signal. Tokens are
    signed with ``SWITCHBOARD_JWT_SECRET``, else with ``switchboard up``'s development secret, so
    ``switchboard token`` mints tokens it accepts."""
    mysql_url = os.environ.get("SWITCHBOARD_MYSQL_URL", CommonSettings.mysql_url)
    check_mysql(mysql_url)
    await migrate(mysql_url, migration_folders())
    data = DataDir(data_dir)
    secret = os.environ.get("SWITCHBOARD_JWT_SECRET") or data.jwt_secret()
    workdir = Path(tempfile.mkdtemp(prefix="switchboard-cluster-"))
    deployment = Deployment(mysql_url, NatsCluster(workdir / "nats", topology.nats_servers, log_dir=workdir),
                            workdir, secret, extra_env={"SWITCHBOARD_LOG_FORMAT": "text", **cluster_env(topology)})
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    cluster = await LoopbackCluster(deployment, workdir, topology).start()
    try:
        operator = DataDir(workdir)  # the layout's own: a --data-dir given for the secret keeps up's operator env
        operator.write_operator_env(cluster.operator_env())
        edges = ", ".join(f"{edge.node_id} {edge.url}" for edge in deployment.edges)
        where = f" --data-dir {data.root}" if data_dir else ""
        print(f"cluster up: socket.io through nginx at {cluster.url} ({edges}); NATS {deployment.nats.url}; "
              f"logs in {workdir}; a token: switchboard token{where} --user-id 123 --role user; the operator "
              f"tools: switchboard status --data-dir {operator.root} (and sessions, devices, kick, send-system) "
              "(Ctrl-C stops everything)", flush=True)
        await stop.wait()
    finally:
        await cluster.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m switchboard.cluster", description=run.__doc__)
    defaults = Topology()
    for field in dataclasses.fields(Topology):
        parser.add_argument(f"--{field.name.replace('_', '-')}", type=int, default=getattr(defaults, field.name))
    parser.add_argument("--data-dir", help="switchboard up's data dir, for its development JWT secret")
    args = parser.parse_args(argv)
    topology = Topology(**{field.name: getattr(args, field.name) for field in dataclasses.fields(Topology)})
    asyncio.run(run(topology, args.data_dir))


if __name__ == "__main__":
    main()
