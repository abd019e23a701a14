"""Shared subscriptions: one queue and one task for many subjects, with nats-py's own subscribe/unsubscribe."""

from __future__ import annotations

import asyncio

import nats
from nats.aio.msg import Msg

from switchboard.nats import SharedSubscriptions
from switchboard.runner import NatsServer
from tests.support.polling import eventually


async def test_many_subjects_reach_one_handler_in_order_until_unsubscribed(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.admin_url)
    got: list[tuple[str, bytes]] = []

    async def handler(msg: Msg) -> None:
        got.append((msg.subject, msg.data))

    shared = SharedSubscriptions(nc, handler)
    shared.start()
    try:
        first, second = await shared.subscribe("shared.a.>"), await shared.subscribe("shared.b.>")
        await nc.flush()
        for i in range(50):
            await nc.publish(f"shared.{'ab'[i % 2]}.x", str(i).encode())
        await eventually(lambda: len(got) == 50)
        assert got == [(f"shared.{'ab'[i % 2]}.x", str(i).encode()) for i in range(50)]
        tasks_before = len(asyncio.all_tasks())
        more = [await shared.subscribe(f"shared.more.{i}") for i in range(100)]
        assert len(asyncio.all_tasks()) == tasks_before  # no task per subscription
        for sub in more:
            await sub.unsubscribe()

        await first.unsubscribe()
        await nc.publish("shared.a.x", b"after")
        await nc.publish("shared.b.x", b"still")
        await eventually(lambda: got[-1] == ("shared.b.x", b"still"))
        assert ("shared.a.x", b"after") not in got
        await second.unsubscribe()
    finally:
        await shared.stop()
        await nc.close()
