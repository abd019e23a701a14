"""The inbox stream is created with as many copies as the cluster is configured for (SWITCHBOARD_NATS_REPLICAS),
one per NATS server, all current; the count follows the setting and JetStream refuses more than it can hold."""

from __future__ import annotations

import uuid

import nats
import pytest
from nats.js.errors import APIError

from services.messaging.publisher import Publisher
from services.messaging.settings import Settings
from switchboard.cluster import LoopbackCluster
from switchboard.nats import Subjects
from switchboard.settings import load
from tests.support.polling import eventually


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


async def test_the_replica_count_is_the_setting_raised_at_the_next_start_and_refused_past_the_cluster(
        cluster: LoopbackCluster) -> None:
    """messaging's own start-up step (Publisher.ensure_stream), as its NATS user, on a prefix of its own: the
    stream is made with one copy, a start with three brings it to three, and five (more than the cluster has
    servers) is refused by JetStream — messaging would not start."""
    subjects = Subjects(f"r{uuid.uuid4().hex[:10]}")
    nc = await nats.connect(servers=[cluster.nats.auth.url(node.url, "messaging") for node in cluster.nats.nodes])
    admin = await nats.connect(servers=cluster.nats.admin_url.split(","))
    try:
        async def copies() -> tuple[int, int]:
            """(configured, current): the leader and its current followers (a scale-up catches up first)."""
            info = await admin.jetstream().stream_info(subjects.inbox_stream)
            assert info.cluster is not None
            current = bool(info.cluster.leader) + sum(bool(peer.current) for peer in info.cluster.replicas or [])
            return info.config.num_replicas, current

        for replicas in (1, 3):
            await publisher(nc, subjects, replicas).ensure_stream()
            await eventually(copies, (replicas, replicas))
        with pytest.raises(APIError):
            await publisher(nc, subjects, 5).ensure_stream()
        assert (await admin.jetstream().stream_info(subjects.inbox_stream)).config.num_replicas == 3
    finally:
        await admin.jetstream().delete_stream(subjects.inbox_stream)
        await nc.close()
        await admin.close()


def publisher(nc: nats.NATS, subjects: Subjects, replicas: int) -> Publisher:
    """ensure_stream touches neither the store nor anything but the settings and the connection."""
    return Publisher(nc, subjects, None, load(Settings, environ={}, nats_replicas=replicas))  # type: ignore[arg-type]
