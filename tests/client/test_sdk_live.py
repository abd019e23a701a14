"""The SDK against the real system: MySQL, NATS, devices, messaging and edge nodes as processes."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from client import AsyncWebSocketClient, ConnectionStatus, SendFailedError, WebSocketClient
from switchboard.runner import free_port
from tests.client.conftest import FAST, Recorder, SdkFactory
from tests.support.polling import eventually
from tests.support.system import System
from tests.support.users import SocketUser, new_user_id

REPO = Path(__file__).parents[2]


async def conversation(customer: AsyncWebSocketClient, agent: AsyncWebSocketClient) -> str:
    session_id = await customer.open_session()
    await agent.join_session(session_id)
    return session_id


async def test_customer_and_agent_talk_with_receipts(sdk: SdkFactory) -> None:
    customer, c_rec = await sdk("user")
    agent, a_rec = await sdk("agent", node=1)
    session_id = await conversation(customer, agent)

    ack = await customer.send_message(session_id, "Hello, my order is late")
    assert ack["success"] and ack["sequence_number"] >= 1
    await eventually(lambda: a_rec.texts() == ["Hello, my order is late"])
    incoming = a_rec.events["message"][0]
    await agent.send_message(session_id, "Sorry! Let me check.", role="agent", reply_to_message_id=incoming["id"])
    await eventually(lambda: c_rec.texts() == ["Sorry! Let me check."])
    # auto_ack_delivered: the agent's SDK acknowledged the customer's message; the customer hears of it.
    await eventually(lambda: any(s["message_id"] == ack["message_id"] and s["status"] == "delivered"
                                 for s in c_rec.events["message_status"]))
    await customer.send_message_read(message_id=c_rec.events["message"][0]["id"])
    await eventually(lambda: any(s["status"] == "read" for s in a_rec.events["message_status"]))
    assert c_rec.events["status_change"][:2] == [ConnectionStatus.CONNECTING, ConnectionStatus.CONNECTED]
    assert [m["sequence_number"] for m in a_rec.events["message"]] == [1]


async def test_typing_devices_and_session_helpers(sdk: SdkFactory) -> None:
    customer, _ = await sdk("user")
    agent, a_rec = await sdk("agent", node=1)
    session_id = await conversation(customer, agent)
    await customer.send_typing(session_id, True)
    await eventually(lambda: a_rec.events["typing"] and a_rec.events["typing"][-1]["is_typing"])
    devices = await customer.list_devices()
    assert [d["device_id"] for d in devices if d.get("current")] == [customer.device_id]
    history = await agent.sync(session_id, after_sequence=0)
    assert history["success"] and history["messages"] == []


async def test_permanently_refused_message_leaves_the_queue(sdk: SdkFactory) -> None:
    customer, rec = await sdk("user")
    other, _ = await sdk("user")
    foreign_session = await other.open_session()
    handle = customer.send_message(foreign_session, "not my session")
    with pytest.raises(SendFailedError) as failed:
        await handle
    assert failed.value.cause.code in ("FORBIDDEN", "NOT_FOUND")
    assert customer.pending_count() == 0
    await eventually(lambda: len(rec.events["send_failed"]) == 1)
    assert rec.events["send_failed"][0][0]["client_msg_id"] == handle.client_msg_id


async def test_reconnects_after_the_edge_is_killed_and_sends_what_was_queued(make_system, sdk: SdkFactory) -> None:
    system: System = await make_system(edges=2)
    edge, other = system.edges
    tokens_asked = 0
    uid = new_user_id()

    def token_provider() -> str:
        nonlocal tokens_asked
        tokens_asked += 1
        return system.token(uid)

    customer = AsyncWebSocketClient(edge.url, **FAST)
    rec = Recorder(customer)
    try:
        assert await customer.connect(uid, token_provider=token_provider, timeout=15)
        agent_id = new_user_id()
        agent = await SocketUser(other.url, agent_id, system.token(agent_id, "agent")).join()
        session_id = await customer.open_session()
        assert (await agent.call("join_session", {"session_id": session_id}))["success"]
        connection_id = customer.connection_id

        await customer.send_message(session_id, "before")
        await edge.process.kill()
        await eventually(lambda: customer.get_status() == ConnectionStatus.RECONNECTING)
        handles = [customer.send_message(session_id, f"while-down-{i}") for i in range(10)]
        await asyncio.sleep(1.5)  # several backoff rounds against a dead port
        assert customer.get_status() == ConnectionStatus.RECONNECTING
        assert customer.pending_count() == 10

        await system.restart_edge(edge)
        acks = await asyncio.wait_for(asyncio.gather(*handles), 30)
        assert customer.get_status() == ConnectionStatus.CONNECTED
        assert customer.connection_id == connection_id
        assert [a["sequence_number"] for a in acks] == list(range(2, 12))
        assert tokens_asked >= 3  # one per attempt

        await eventually(lambda: len(agent.events["new_message"]) >= 11)
        await asyncio.sleep(0.5)
        texts = [m["text"] for m in agent.events["new_message"]]
        assert texts == ["before", *[f"while-down-{i}" for i in range(10)]]  # once each, in order
        rows = await system.query(
            "SELECT COUNT(*), COUNT(DISTINCT client_msg_id) FROM chat_messages WHERE session_id = %s", session_id)
        assert rows[0] == (11, 11)
        statuses = rec.events["status_change"]
        assert statuses[:4] == [ConnectionStatus.CONNECTING, ConnectionStatus.CONNECTED,
                                ConnectionStatus.RECONNECTING, ConnectionStatus.CONNECTED]
        assert len(rec.events["disconnect"]) == 1 and len(rec.events["connect"]) == 2
        await agent.close()
    finally:
        await customer.close()


async def test_a_half_open_connection_is_detected_by_heartbeats(make_system) -> None:
    """SIGSTOP the edge: TCP stays up, nothing answers. The missed heartbeat ack triggers the reconnect."""
    system: System = await make_system(edges=1)
    edge = system.edges[0]
    uid = new_user_id()
    customer = AsyncWebSocketClient(edge.url, **{**FAST, "heartbeat_interval": 0.5, "heartbeat_timeout": 1.0,
                                                 "connect_timeout": 2.0, "request_timeout": 2.0})
    try:
        assert await customer.connect(uid, system.token(uid), timeout=15)
        edge.process.signal(signal.SIGSTOP)
        try:
            await eventually(lambda: customer.get_status() == ConnectionStatus.RECONNECTING, timeout=10)
        finally:
            edge.process.signal(signal.SIGCONT)
        await eventually(lambda: customer.get_status() == ConnectionStatus.CONNECTED, timeout=30)
        assert (await customer.list_devices())
    finally:
        await customer.close()


async def test_persisted_queue_of_a_dead_process_is_sent_after_restart(sdk: SdkFactory, system: System,
                                                                      tmp_path: Path) -> None:
    customer, _ = await sdk("user")
    agent, a_rec = await sdk("agent", node=1)
    session_id = await conversation(customer, agent)
    await customer.close()
    queue_path = tmp_path / "outbox.db"
    dead_url = f"http://127.0.0.1:{free_port()}"  # the server is unreachable for the doomed process
    script = f"""
import os, signal
from client import WebSocketClient
c = WebSocketClient({dead_url!r}, queue_path={str(queue_path)!r}, retry_interval=0.1)
c.connect({customer.user_id}, {system.token(customer.user_id)!r}, timeout=0)
for i in range(5):
    c.send_message({session_id!r}, f"persisted-{{i}}")
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", script], cwd=REPO,
                                   env={**os.environ, "PYTHONPATH": str(REPO)}, check=False)
    assert proc.returncode == -signal.SIGKILL

    revived = AsyncWebSocketClient(system.edges[0].url, queue_path=queue_path, **FAST)
    try:
        assert revived.pending_count() == 0  # loaded at connect(), for the connecting user
        assert await revived.connect(customer.user_id, system.token(customer.user_id), timeout=15)
        await eventually(lambda: revived.pending_count() == 0)
        await eventually(lambda: a_rec.texts() == [f"persisted-{i}" for i in range(5)])
    finally:
        await revived.close()
    reopened = AsyncWebSocketClient(system.edges[0].url, queue_path=queue_path)
    try:
        assert reopened._core.outbox.load(customer.user_id) == 0  # acked messages left the disk too
    finally:
        await reopened.close()


async def test_duplicates_pushed_by_the_server_reach_on_message_once(sdk: SdkFactory) -> None:
    customer, _ = await sdk("user")
    agent, a_rec = await sdk("agent", node=1, auto_ack_delivered=False)
    session_id = await conversation(customer, agent)
    for i in range(3):
        await customer.send_message(session_id, f"m{i}")
    await eventually(lambda: a_rec.texts() == ["m0", "m1", "m2"])

    received_raw: list[dict[str, Any]] = []
    original = agent._core.incoming.receive

    def spy(data: Any) -> None:
        received_raw.append(data)
        original(data)

    agent._core.incoming.receive = spy  # type: ignore[method-assign]
    # An unexpected drop: unacknowledged messages are pushed again (offline) at the next registration.
    link = agent._core.connection.link
    assert link is not None
    await link.sio.disconnect()
    await eventually(lambda: len([m for m in received_raw if m.get("offline")]) >= 3, timeout=20)
    await asyncio.sleep(0.3)
    assert a_rec.texts() == ["m0", "m1", "m2"]
    assert agent.get_status() == ConnectionStatus.CONNECTED


async def test_a_sequence_gap_is_filled_through_sync(sdk: SdkFactory, caplog: pytest.LogCaptureFixture) -> None:
    customer, _ = await sdk("user")
    agent, a_rec = await sdk("agent", node=1)
    session_id = await conversation(customer, agent)
    original = agent._core.incoming.receive
    lost: list[int] = []

    def lose_second_push(data: Any) -> None:
        if data.get("sequence_number") == 2 and not lost:
            lost.append(data["id"])  # as if the live push had been lost on the way
            return
        original(data)

    agent._core.incoming.receive = lose_second_push  # type: ignore[method-assign]
    caplog.set_level(logging.INFO, logger="client")
    for i in range(1, 5):
        await customer.send_message(session_id, f"m{i}")
    await eventually(lambda: len(a_rec.texts()) == 4)
    assert a_rec.texts() == ["m1", "m2", "m3", "m4"]
    assert [m["sequence_number"] for m in a_rec.events["message"]] == [1, 2, 3, 4]
    assert lost and any("sequence gap" in r.getMessage() for r in caplog.records)


async def test_kicked_client_stops_reconnecting(sdk: SdkFactory) -> None:
    victim, v_rec = await sdk("user")
    kicker, _ = await sdk("user", user_id=victim.user_id)
    await kicker.kick_device(victim.device_id or "")
    await eventually(lambda: victim.get_status() == ConnectionStatus.DISCONNECTED)
    assert v_rec.events["kicked"] and v_rec.events["kicked"][0]["device_id"] == victim.device_id
    await asyncio.sleep(1.0)  # well past several backoff rounds
    assert victim.get_status() == ConnectionStatus.DISCONNECTED
    assert ConnectionStatus.RECONNECTING not in v_rec.events["status_change"]


async def test_many_threads_sending_at_once(sdk: SdkFactory, system: System) -> None:
    """The blocking client from 8 threads: every message acked, delivered once, each thread's order kept."""
    agent, a_rec = await sdk("agent", node=1)
    uid = new_user_id()
    client = WebSocketClient(system.edges[0].url, max_queue_size=1000, **FAST)
    callback_threads: set[str] = set()
    client.on_message_sent(lambda *_: callback_threads.add(threading.current_thread().name))
    try:
        assert await asyncio.to_thread(client.connect, uid, system.token(uid))
        session_id = await asyncio.to_thread(client.open_session)
        await agent.join_session(session_id)
        threads, per_thread = 8, 25

        def sender(t: int) -> list[int]:
            handles = [client.send_message(session_id, f"t{t}-{i}") for i in range(per_thread)]
            return [h.result(30)["sequence_number"] for h in handles]

        results = await asyncio.gather(*(asyncio.to_thread(sender, t) for t in range(threads)))
        for seqs in results:
            assert seqs == sorted(seqs)
        assert sorted(s for seqs in results for s in seqs) == list(range(1, threads * per_thread + 1))
        await eventually(lambda: len(a_rec.texts()) == threads * per_thread, timeout=30)
        assert len(set(a_rec.texts())) == threads * per_thread
        assert callback_threads == {"switchboard-sdk-callbacks"}
    finally:
        await asyncio.to_thread(client.close)


async def test_the_example_agent_bot_answers_a_customer(sdk: SdkFactory, system: System) -> None:
    from examples.agent_bot import AgentBot

    customer, c_rec = await sdk("user")
    agent_id = new_user_id()
    client = WebSocketClient(system.edges[1].url, **FAST)
    try:
        AgentBot(client, agent_id, reply=lambda text: f"echo: {text}")
        assert await asyncio.to_thread(client.connect, agent_id, system.token(agent_id, "agent"))
        session_id = await customer.open_session()
        await asyncio.to_thread(client.join_session, session_id)
        await customer.send_message(session_id, "where is my parcel?")
        await eventually(lambda: c_rec.texts() == ["echo: where is my parcel?"])
        await eventually(lambda: any(s["status"] == "read" for s in c_rec.events["message_status"]))
    finally:
        await asyncio.to_thread(client.close)
