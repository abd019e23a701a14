"""The retry queue: replicas share it without handling a row twice, and a publish that failed while NATS was
down is delivered once it is back — the send itself never fails for it, and nothing is dropped."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import nats

from protos import messaging_pb2
from protos.messaging_pb2_grpc import MessagingServiceStub
from switchboard.nats import Subjects, decode
from switchboard.runner import NatsServer
from tests.messaging.conftest import TEST_ENV, Messaging, eventually, fresh_database, new_user
from tests.support.system import System

COMPLETED = 'switchboard_messaging_retry_processed_total{outcome="completed"}'


async def test_two_replicas_drain_the_queue_processing_each_row_exactly_once(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    count = 300
    sent = [(await messaging.send(session.session_id, customer, text=f"q{i}")).message for i in range(count)]
    events = await messaging.subscriber()  # after the live publishes: from now on only retries arrive
    await events.watch(agent)
    completed_before = await messaging.metric(COMPLETED)

    await messaging.query(
        "INSERT INTO message_queue (message_id, session_id, from_user_id, to_user_id, next_retry_at) VALUES "
        + ", ".join(["(%s, %s, %s, %s, NOW(3) - INTERVAL 1 SECOND)"] * count),
        *(v for m in sent for v in (m.id, session.session_id, customer, agent)))

    ids = [m.id for m in sent]
    placeholders = ", ".join(["%s"] * count)

    async def all_completed() -> bool:
        rows = await messaging.query(
            f"SELECT status, retry_count, COUNT(*) FROM message_queue WHERE message_id IN ({placeholders})"
            " GROUP BY status, retry_count", *ids)
        return rows == [("completed", 0, count)]

    await eventually(all_completed, what="every queued row completed")
    await eventually(lambda: len(events.of(agent, "new_message")) >= count, what="every retried publish")
    # Each row was published once (core NATS sees every publish, JetStream dedup aside) and completed once.
    assert Counter(e["data"]["id"] for e in events.of(agent, "new_message")) == dict.fromkeys(ids, 1)
    assert await messaging.metric(COMPLETED) - completed_before == count


async def test_a_row_left_processing_by_a_dead_worker_is_retried_after_its_lease(messaging: Messaging) -> None:
    session, customer, agent = await messaging.session()
    msg = (await messaging.send(session.session_id, customer)).message
    events = await messaging.subscriber()
    await events.watch(agent)
    await messaging.query(
        "INSERT INTO message_queue (message_id, session_id, from_user_id, to_user_id, status, next_retry_at)"
        " VALUES (%s, %s, %s, %s, 'processing', NOW(3) - INTERVAL 1 SECOND)",
        msg.id, session.session_id, customer, agent)
    await eventually(lambda: _all_completed(messaging.system, msg.id), what="the abandoned row completed")
    await eventually(lambda: [e["data"]["id"] for e in events.of(agent, "new_message")] == [msg.id])


@contextlib.asynccontextmanager
async def private_deployment(tmp_path: Path, **env: str) -> AsyncIterator[tuple[System, NatsServer]]:
    """One messaging replica with its own database and its own nats-server, which the test may stop."""
    async with fresh_database() as url:
        server = NatsServer(tmp_path / "jetstream", log_path=tmp_path / "nats.log")
        await server.start()
        sys_ = System(url, server, tmp_path, extra_env={**TEST_ENV, **env})
        try:
            await sys_.start_service("messaging")
            yield sys_, server
        finally:
            await sys_.stop()
            await server.stop()


async def open_session(stub: MessagingServiceStub) -> tuple[str, int, int]:
    customer, agent = new_user(), new_user()
    session = (await stub.OpenSession(messaging_pb2.OpenSessionRequest(user_id=customer))).session
    await stub.AssignAgent(messaging_pb2.AssignAgentRequest(session_id=session.session_id, agent_id=agent))
    return session.session_id, customer, agent


async def test_send_succeeds_while_nats_is_down_and_is_published_when_it_is_back(tmp_path: Path) -> None:
    async with private_deployment(tmp_path, SWITCHBOARD_RETRY_MAX="50") as (sys_, server):
        stub = sys_.messaging_stub()
        session_id, customer, agent = await open_session(stub)
        await server.stop()

        reply = await stub.SendMessage(messaging_pb2.SendMessageRequest(
            session_id=session_id, sender_id=customer, sender_role="user", text="are you there?"))
        msg = reply.message
        assert msg.sequence_number == 1
        queued = await sys_.query(
            "SELECT to_user_id FROM message_queue WHERE message_id = %s ORDER BY to_user_id", msg.id)
        assert queued == [(agent,)]  # the recipient's publish; the sender's own copy is a plain event

        restarted = NatsServer(server.store_dir, port=server.port, log_path=tmp_path / "nats-restarted.log",
                               auth=server.auth)
        await restarted.start()
        try:
            await eventually(lambda: _all_completed(sys_, msg.id), what="the queued publishes completed")
            nc = await nats.connect(restarted.admin_url)
            try:
                subjects = Subjects(sys_.prefix)
                stored = await nc.jetstream().get_last_msg(subjects.inbox_stream, subjects.user_inbox(agent))
                assert decode(stored.data)["data"]["id"] == msg.id
            finally:
                await nc.close()
        finally:
            await restarted.stop()


async def _all_completed(sys_: System, message_id: int) -> bool:
    rows = await sys_.query("SELECT status FROM message_queue WHERE message_id = %s", message_id)
    return bool(rows) and all(status == "completed" for (status,) in rows)


async def test_a_publish_that_keeps_failing_ends_failed_but_the_message_stays_pending(tmp_path: Path) -> None:
    async with private_deployment(tmp_path, SWITCHBOARD_RETRY_MAX="2") as (sys_, server):
        stub = sys_.messaging_stub()
        session_id, customer, agent = await open_session(stub)
        nc = await nats.connect(server.admin_url)
        try:  # NATS is up but refuses every publish: the inbox stream is gone
            await nc.jetstream().delete_stream(Subjects(sys_.prefix).inbox_stream)
        finally:
            await nc.close()
        msg = (await stub.SendMessage(messaging_pb2.SendMessageRequest(
            session_id=session_id, sender_id=customer, sender_role="user", text="hello?"))).message

        async def failed() -> bool:
            rows = await sys_.query(
                "SELECT status, retry_count, error_message IS NOT NULL FROM message_queue WHERE message_id = %s",
                msg.id)
            return rows == [("failed", 2, 1)]

        await eventually(failed, what="the recipient's row failed after its retries")
        pending = await stub.FetchPending(messaging_pb2.FetchPendingRequest(user_id=agent))
        assert [m.id for m in pending.messages] == [msg.id]


async def test_while_nats_is_down_sends_do_not_wait_for_pubacks_and_retries_are_not_spent(tmp_path: Path) -> None:
    # A PubAck wait longer than the RPC deadline: a send that waited for one would fail instead of answering.
    async with private_deployment(tmp_path, SWITCHBOARD_RETRY_MAX="2",
                                  SWITCHBOARD_PUBLISH_TIMEOUT_SECONDS="60") as (sys_, server):
        stub = sys_.messaging_stub()
        session_id, customer, _ = await open_session(stub)
        await server.stop()
        sent = [(await stub.SendMessage(messaging_pb2.SendMessageRequest(
            session_id=session_id, sender_id=customer, sender_role="user", text=f"m{i}"), timeout=5)).message
            for i in range(3)]
        ids = [m.id for m in sent]

        async def queued() -> list[tuple[int, str, int]]:
            return await sys_.query(
                "SELECT message_id, status, retry_count FROM message_queue WHERE message_id IN (%s, %s, %s)"
                " ORDER BY message_id", *ids)

        assert await queued() == [(i, "pending", 0) for i in ids]
        # Several polls of the retry worker (50 ms apart) later, no attempt was spent on a NATS that is away.
        await _several_retry_polls()
        assert await queued() == [(i, "pending", 0) for i in ids]

        restarted = NatsServer(server.store_dir, port=server.port, log_path=tmp_path / "nats-restarted.log",
                               auth=server.auth)
        await restarted.start()
        try:
            for message_id in ids:
                await eventually(lambda m=message_id: _all_completed(sys_, m), what="queued publishes completed")
        finally:
            await restarted.stop()


async def _several_retry_polls() -> None:
    """Give the retry worker many polls (``SWITCHBOARD_RETRY_POLL_SECONDS`` is 50 ms in these tests)."""
    await asyncio.sleep(1.0)
