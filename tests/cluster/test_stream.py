"""The inbox stream is created with as many copies as the cluster is configured for (SWITCHBOARD_NATS_REPLICAS),
one per NATS server, all current."""

from __future__ import annotations

import nats

from switchboard.cluster import LoopbackCluster
from switchboard.nats import Subjects


async def test_the_inbox_stream_has_three_replicas(cluster: LoopbackCluster) -> None:
    nc = await nats.connect(servers=cluster.nats.admin_url.split(","))
    try:
        info = await nc.jetstream().stream_info(Subjects(cluster.deployment.prefix).inbox_stream)
    finally:
        await nc.close()
    assert info.config.num_replicas == 3
    assert info.cluster is not None and info.cluster.leader
    servers = {info.cluster.leader, *(peer.name for peer in info.cluster.replicas or [])}
    assert servers == {node.server_name for node in cluster.nats.nodes}
    assert all(peer.current for peer in info.cluster.replicas or [])
