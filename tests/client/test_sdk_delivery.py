"""Delivery under faults, seen by the SDK against the real system: ticks, receipts after display, retried
receipts and sends, exactly-once display across an app restart."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import nats
import pytest

from client import AsyncWebSocketClient, WebSocketClient
from client.link import Link
from switchboard.nats import Subjects, encode
from tests.client.conftest import FAST, Recorder, SdkFactory
from tests.support.polling import eventually
from tests.support.system import System
from tests.support.users import new_user_id

REPO = Path(__file__).parents[2]


async def conversation(customer: AsyncWebSocketClient, agent: AsyncWebSocketClient) -> str:
    session_id = await customer.open_session()
    await agent.join_session(session_id)
    return session_id


def ticks(rec: Recorder, message_id: int) -> list[str]:
    return [s["status"] for s in rec.events["message_status"] if s.get("message_id") == message_id]


async def test_ticks_never_move_backwards_on_any_device_of_the_sender(sdk: SdkFactory, system: System) -> None:
    """read and delivered in both orders, on two devices of the sender; a stale ``delivered`` (what a batched
    receipt announced late looks like) is pushed through the real edge after ``read``."""
    uid = new_user_id()
    phone, phone_rec = await sdk("user", user_id=uid, device_id="phone")
    _, laptop_rec = await sdk("user", user_id=uid, node=1, device_id="laptop")
    agent, _ = await sdk("agent", node=1, auto_ack_delivered=False)
    session_id = await conversation(phone, agent)
    read_first = await phone.send_message(session_id, "read before delivered")
    delivered_first = await phone.send_message(session_id, "delivered before read")

    await agent.send_message_read(message_id=read_first["message_id"])
    await agent.send_message_delivered(message_id=read_first["message_id"])
    await agent.send_message_delivered(message_id=delivered_first["message_id"])
    await agent.send_message_read(message_id=delivered_first["message_id"])
    nc = await nats.connect(system.nats.admin_url)
    try:
        subject = Subjects(system.prefix).user(uid)
        for ack in (read_first, delivered_first):
            for status in ("delivered", "read"):  # late and repeated events, in the order that hurts
                await nc.publish(subject, encode("message_status", {
                    "message_id": ack["message_id"], "session_id": session_id, "status": status, "timestamp": 0}))
        # A marker behind them on the same subject: once it is seen, so were they.
        await nc.publish(subject, encode("typing", {"session_id": session_id, "user_id": 0, "is_typing": True}))
        await nc.flush()
    finally:
        await nc.close()
    for rec in (phone_rec, laptop_rec):
        await eventually(lambda rec=rec: any(t.get("user_id") == 0 for t in rec.events["typing"]))
        assert ticks(rec, read_first["message_id"]) == ["read"]
        assert ticks(rec, delivered_first["message_id"]) == ["delivered", "read"]


async def test_sends_refused_during_a_backend_outage_retry_briefly_and_resume(
        make_system, caplog: pytest.LogCaptureFixture) -> None:
    """messaging killed: the edge refuses with UNAVAILABLE. Retries stay short (≤ max_send_retry_interval, not
    the reconnect backoff), and everything queued goes as soon as messaging is back."""
    system: System = await make_system(edges=1)
    messaging = system.services["messaging"]
    uid, agent_id = new_user_id(), new_user_id()
    # Default reconnect settings on purpose: they must not leak into send retries.
    customer = AsyncWebSocketClient(system.edges[0].url)
    agent = AsyncWebSocketClient(system.edges[0].url)
    a_rec = Recorder(agent)
    try:
        assert await customer.connect(uid, system.token(uid), timeout=15)
        assert await agent.connect(agent_id, system.token(agent_id, "agent"), timeout=15)
        session_id = await conversation(customer, agent)
        caplog.set_level(logging.INFO, logger="client.sender")
        await messaging.kill()
        handles = [customer.send_message(session_id, f"during-outage-{i}") for i in range(3)]

        def retry_delays() -> list[float]:
            return [float(m.group(1)) for r in caplog.records
                    if (m := re.search(r"retrying in ([0-9.]+)s", r.getMessage()))]

        await eventually(lambda: len(retry_delays()) >= 7, timeout=30)
        await messaging.start()
        acks = await asyncio.wait_for(asyncio.gather(*handles), 30)
        assert [a["sequence_number"] for a in acks] == [1, 2, 3]
        assert max(retry_delays()) <= customer.max_send_retry_interval
        await eventually(lambda: a_rec.texts() == [f"during-outage-{i}" for i in range(3)])
        assert customer.is_connected()  # refusals are not a reason to drop the link
    finally:
        await customer.close()
        await agent.close()


class ReceiptSpy:
    """Every ``message_delivered`` a user's SDK sends, with what its app had shown at that moment."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, user_id: int, shown: list[Any]) -> None:
        self.sent: list[tuple[list[Any], list[Any]]] = []
        original = Link.call

        async def call(link: Link, event: str, data: Any, timeout: float) -> Any:
            if event == "message_delivered" and data.get("user_id") == user_id:
                self.sent.append((data.get("message_ids") or [data.get("message_id")], list(shown)))
            return await original(link, event, data, timeout)

        monkeypatch.setattr(Link, "call", call)

    def ids(self) -> set[Any]:
        return {mid for ids, _ in self.sent for mid in ids}

    def all_after_display(self) -> bool:
        return all(set(ids) <= set(shown) for ids, shown in self.sent)


async def test_delivered_is_sent_once_on_message_returned_and_not_for_held_messages(
        sdk: SdkFactory, system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sync face with a slow UI callback; then a lost push, so a later message is held back meanwhile."""
    customer, c_rec = await sdk("user")
    agent_id = new_user_id()
    agent = WebSocketClient(system.edges[1].url, **FAST)
    shown: list[Any] = []
    entered, release = threading.Event(), threading.Event()

    @agent.on_message
    def show(msg: dict[str, Any]) -> None:
        entered.set()
        release.wait(30)  # a UI that takes its time
        shown.append(msg["id"])

    receipts = ReceiptSpy(monkeypatch, agent_id, shown)
    try:
        assert await asyncio.to_thread(agent.connect, agent_id, system.token(agent_id, "agent"))
        session_id = await customer.open_session()
        await asyncio.to_thread(agent.join_session, session_id)
        slow = await customer.send_message(session_id, "slow to show")
        assert await asyncio.to_thread(entered.wait, 10)
        await asyncio.sleep(0.5)  # time enough for a receipt that does not wait for the callback
        assert receipts.sent == [] and ticks(c_rec, slow["message_id"]) == []
        release.set()
        await eventually(lambda: ticks(c_rec, slow["message_id"]) == ["delivered"])

        original = agent._core.incoming.receive
        lost: list[int] = []

        def lose_one_push(data: Any) -> None:
            if data.get("text") == "lost" and not lost:
                lost.append(data["id"])
                return
            original(data)

        agent._core.incoming.receive = lose_one_push  # type: ignore[method-assign]
        await customer.send_message(session_id, "lost")
        held = await customer.send_message(session_id, "held back")
        await eventually(lambda: held["message_id"] in shown)  # after the gap fill brought "lost"
        await eventually(lambda: {lost[0], held["message_id"]} <= receipts.ids())
        assert receipts.all_after_display()
        assert shown.index(lost[0]) < shown.index(held["message_id"])
    finally:
        release.set()
        await asyncio.to_thread(agent.close)


async def test_receipts_refused_during_a_backend_outage_are_sent_again(make_system) -> None:
    system: System = await make_system(edges=1)
    messaging = system.services["messaging"]
    uid, agent_id = new_user_id(), new_user_id()
    customer = AsyncWebSocketClient(system.edges[0].url, **FAST)
    agent = AsyncWebSocketClient(system.edges[0].url, **FAST)
    c_rec = Recorder(customer)
    entered, release = asyncio.Event(), asyncio.Event()

    @agent.on_message
    async def show(msg: dict[str, Any]) -> None:
        entered.set()
        await release.wait()

    try:
        assert await customer.connect(uid, system.token(uid), timeout=15)
        assert await agent.connect(agent_id, system.token(agent_id, "agent"), timeout=15)
        session_id = await conversation(customer, agent)
        ack = await customer.send_message(session_id, "shown while messaging restarts")
        await asyncio.wait_for(entered.wait(), 10)
        await messaging.kill()
        release.set()  # the receipt goes out now, and is refused
        await eventually(lambda: len(agent._core.incoming.receipts) == 1)
        await asyncio.sleep(1.0)  # a few refusals
        assert len(agent._core.incoming.receipts) == 1
        await messaging.start()
        await eventually(lambda: ticks(c_rec, ack["message_id"]) == ["delivered"], timeout=20)
        assert len(agent._core.incoming.receipts) == 0
    finally:
        await customer.close()
        await agent.close()


RESTARTED_APP = """
import json, os, signal, sqlite3, sys, threading, time
from client import WebSocketClient
url, db, user_id, token, expect = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
shown = []
done = threading.Event()
# No receipts, so the server pushes everything again after the restart.
c = WebSocketClient(url, queue_path=db, auto_ack_delivered=False, retry_interval=0.1)

@c.on_message
def show(msg):
    shown.append(msg["text"])
    print("shown", msg["text"], flush=True)
    if len(shown) == expect:
        done.set()

assert c.connect(user_id, token, device_id="agent-desktop", timeout=15)
print("ready", flush=True)
done.wait(30)
while sqlite3.connect(db).execute("SELECT COUNT(*) FROM shown_messages").fetchone()[0] < expect:
    time.sleep(0.01)  # recorded once the callback returned; then the app dies
os.kill(os.getpid(), signal.SIGKILL)
"""


async def test_a_restarted_app_shows_nothing_twice_and_holds_a_live_push_for_the_backlog(
        sdk: SdkFactory, system: System, tmp_path: Path) -> None:
    customer, _ = await sdk("user")
    agent_id = new_user_id()
    joiner, _ = await sdk("agent", user_id=agent_id, node=1)
    session_id = await conversation(customer, joiner)
    await joiner.close()
    db = tmp_path / "agent.db"
    app = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RESTARTED_APP, system.edges[1].url, str(db), str(agent_id),
        system.token(agent_id, "agent"), "2", cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE)
    assert app.stdout is not None
    assert await asyncio.wait_for(app.stdout.readline(), 30) == b"ready\n"
    for text in ("m1", "m2"):
        await customer.send_message(session_id, text)
    lines = (await asyncio.wait_for(app.stdout.read(), 30)).decode().splitlines()
    assert await app.wait() == -signal.SIGKILL
    assert lines == ["shown m1", "shown m2"]

    for text in ("m3", "m4"):  # while the app is down
        await customer.send_message(session_id, text)
    revived = AsyncWebSocketClient(system.edges[1].url, queue_path=db, **FAST)
    rec = Recorder(revived)
    backlog: list[dict[str, Any]] = []
    original = revived._core.incoming.receive

    def live_push_first(data: Any) -> None:
        """The offline backlog is held up until a live push overtook it."""
        if data.get("offline") and not any(m.get("text") == "m5" for m in backlog):
            backlog.append(data)
            return
        original(data)
        if data.get("text") == "m5":
            for held in backlog:
                original(held)

    revived._core.incoming.receive = live_push_first  # type: ignore[method-assign]
    try:
        assert await revived.connect(agent_id, system.token(agent_id, "agent"), device_id="agent-desktop",
                                     timeout=15)
        await eventually(lambda: {m["text"] for m in backlog} >= {"m1", "m2", "m3", "m4"})
        await customer.send_message(session_id, "m5")
        await eventually(lambda: len(rec.texts()) >= 3)
        await eventually(lambda: len(revived._core.incoming.receipts) == 0)
        assert rec.texts() == ["m3", "m4", "m5"]  # m1, m2 not again; m5 after the backlog
    finally:
        await revived.close()


async def test_a_device_back_from_away_catches_up_on_what_another_device_acknowledged(
        sdk: SdkFactory, system: System) -> None:
    """The server pushes again only what no device of the user acknowledged: a device that was away learns of
    the rest (and of its user's own messages sent from another device) by syncing its sessions on reconnect,
    even when no later message reveals the gap."""
    uid = new_user_id()
    phone, _ = await sdk("user", user_id=uid, device_id="phone")
    laptop, laptop_rec = await sdk("user", user_id=uid, node=1, device_id="laptop")
    agent, _ = await sdk("agent", node=1)
    session_id = await conversation(phone, agent)
    first = await agent.send_message(session_id, "before you left", role="agent")
    await eventually(lambda: [m["id"] for m in laptop_rec.events["message"]] == [first["message_id"]])

    await laptop.disconnect()
    answers = [await agent.send_message(session_id, f"while you were away {i}", role="agent") for i in range(3)]
    own = await phone.send_message(session_id, "sent from the phone")
    ids = [a["message_id"] for a in answers]

    async def acknowledged_by_the_phone() -> bool:
        rows = await system.query(
            f"SELECT COUNT(*) FROM offline_messages WHERE user_id = %s AND delivered = TRUE"
            f" AND message_id IN ({', '.join(['%s'] * len(ids))})", uid, *ids)
        return rows == [(len(ids),)]

    await eventually(acknowledged_by_the_phone)
    assert await laptop.connect(uid, system.token(uid, "user"), device_id="laptop", timeout=15)
    await eventually(lambda: [m["id"] for m in laptop_rec.events["message"]] == [
        first["message_id"], *sorted([*ids, own["message_id"]])])
