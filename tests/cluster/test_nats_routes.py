"""The cluster's routes authenticate: a nats-server that reaches a route port with the route password joins the
cluster and carries its traffic; one without it is refused and sees nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats

from switchboard.nats_cluster import NatsCluster, cluster_block, route_url
from switchboard.runner import NatsServer, free_port
from tests.support.polling import eventually


def joining(cluster: NatsCluster, workdir: Path, name: str, password: str) -> NatsServer:
    """A server soliciting routes to every server of ``cluster`` with ``password``."""
    routes = [route_url("127.0.0.1", port, password) for port in cluster.route_ports]
    return NatsServer(workdir / name, log_path=workdir / f"{name}.log", auth=cluster.auth, name=name,
                      extra_config=cluster_block(f"127.0.0.1:{free_port()}", password, routes))


async def test_only_a_server_with_the_route_password_joins(tmp_path: Path) -> None:
    cluster = await NatsCluster(tmp_path / "cluster", 3, log_dir=tmp_path).start()
    member = joining(cluster, tmp_path, "member", cluster.route_password)
    intruder = joining(cluster, tmp_path, "intruder", "not-the-route-password")
    clients: list[nats.NATS] = []
    try:
        await asyncio.gather(member.start(), intruder.start())
        await eventually(lambda: "Authorization Violation" in (tmp_path / "intruder.log").read_text(), timeout=20)
        heard: dict[str, list[bytes]] = {"member": [], "intruder": []}
        for server in (member, intruder):
            client = await nats.connect(server.admin_url)
            clients.append(client)

            async def hear(msg: nats.aio.msg.Msg, into: list[bytes] = heard[server.name]) -> None:
                into.append(msg.data)

            await client.subscribe("routes.test", cb=hear)
            await client.flush()
        publisher = await nats.connect(servers=cluster.admin_url.split(","))
        clients.append(publisher)

        async def published_until_the_member_hears() -> bool:
            await publisher.publish("routes.test", b"cluster traffic")
            await asyncio.sleep(0.1)  # one publish per probe, not a flood, while the member's route comes up
            return bool(heard["member"])

        await eventually(published_until_the_member_hears, timeout=20)
        await clients[1].flush()  # whatever reached the intruder has been handed to its subscription
        assert heard["intruder"] == []
    finally:
        for client in clients:
            await client.close()
        await asyncio.gather(member.stop(), intruder.stop())
        await cluster.stop()
