"""``compression``: what one message costs on the wire and in edge CPU under each websocket compression setting.

For each ``SWITCHBOARD_WS_COMPRESSION`` setting, a fresh edge and a customer↔agent pair whose sockets offer
permessage-deflate as browsers do; the customer sends chat-like text of 100 bytes and of 4 KB, a window of
messages in flight, and the agent acknowledges delivery in batches as a real client does. Per message: the bytes
both sockets read and wrote on TCP (the send and its ack, ``new_message``, ``message_status``, the receipts),
the bytes the edge wrote to the recipient, and the edge's CPU. ``context_takeover`` is the old behaviour (uvicorn's
own offer), the default is the decided one and ``off`` is the floor, all in one run.

The text is words drawn from a fixed vocabulary with a fixed seed: it compresses about as well as chat does,
unlike a repeated character, which would flatter compression.
"""

from __future__ import annotations

import asyncio
import random
import sys
from typing import Any

from bench.context import Context
from bench.launcher import BenchSystem
from bench.loadgen import DELIVERED_FLUSH_S, SetupError, UserSpec
from bench.probe import Probe
from bench.protocol import LeanSocket
from bench.report import Check, ratio
from bench.stats import cpu_seconds
from services.connection.settings import Settings as EdgeSettings
from switchboard.ws_compression import MODES

SIZES = (100, 4096)
WINDOW = 16  # messages in flight: a steady stream, not one round trip per message
BEFORE = "context_takeover"
AFTER = EdgeSettings.ws_compression
FIRST_USER = 9_000_000  # apart from every other scenario's ids: an id keeps the role it first registered with
_WORDS = ("hello", "thanks", "order", "delivery", "tracking", "number", "please", "refund", "account", "the",
          "my", "is", "was", "not", "yet", "when", "will", "it", "arrive", "package", "address", "changed",
          "could", "you", "check", "again", "today", "tomorrow", "sorry", "for", "delay", "and", "a", "we",
          "payment", "card", "invoice", "support", "ticket", "issue", "resolved", "still", "waiting", "help")


def chat_text(size: int, rng: random.Random) -> str:
    """``size`` bytes of chat-like ASCII text."""
    words: list[str] = []
    length = 0
    while length < size:
        words.append(rng.choice(_WORDS))
        length += len(words[-1]) + 1
    return " ".join(words)[:size]


def _bytes(*socks: LeanSocket) -> int:
    return sum(s.bytes_in + s.bytes_out for s in socks)


async def _send_all(sender: LeanSocket, session_id: str, texts: list[str], tag: str) -> int:
    """Send every text with up to :data:`WINDOW` in flight; returns how many were refused."""
    gate = asyncio.Semaphore(WINDOW)
    answered = asyncio.Event()
    outcome = {"left": len(texts), "refused": 0}

    def on_ack(reply: Any) -> None:
        gate.release()
        outcome["refused"] += not (isinstance(reply, dict) and reply.get("success"))
        outcome["left"] -= 1
        if not outcome["left"]:
            answered.set()

    for i, text in enumerate(texts):
        await gate.acquire()
        sender.emit_call("send_message", {"session_id": session_id, "message": text, "role": "user",
                                          "message_type": "text", "client_msg_id": f"{tag}:{i}"}, on_ack)
    await asyncio.wait_for(answered.wait(), 60)
    return outcome["refused"]


async def measure_mode(system: BenchSystem, mode: str, messages: int, first_user: int) -> dict[str, Any]:
    edge = await system.add_edge(extra_env={"SWITCHBOARD_WS_COMPRESSION": mode})
    assert edge.process.proc is not None
    pid = edge.process.proc.pid
    customer = Probe(UserSpec(first_user, "user", system.token(first_user), edge.ws_url, "wire-c", True))
    agent = Probe(UserSpec(first_user + 1, "agent", system.token(first_user + 1, "agent"), edge.ws_url, "wire-a",
                           True))
    rng = random.Random(15)
    out: dict[str, Any] = {}
    try:
        await customer.open()
        await agent.open()
        assert customer.sock is not None and agent.sock is not None
        out["negotiated"] = customer.sock.negotiated
        session_id = (await customer.call("open_session", {}))["session_id"]
        await agent.call("join_session", {"session_id": session_id})
        for size in SIZES:
            texts = [chat_text(size, rng) for _ in range(messages)]
            await asyncio.sleep(DELIVERED_FLUSH_S * 4)  # the previous size's receipts are out
            wire0, down0, cpu0 = _bytes(customer.sock, agent.sock), agent.sock.bytes_in, cpu_seconds(pid)
            refused = await _send_all(customer.sock, session_id, texts, f"{mode}:{size}")
            if refused:
                raise SetupError(f"{refused} sends of {size} B refused under {mode}")
            complete = await agent.wait_count(messages * (SIZES.index(size) + 1), 60)
            await asyncio.sleep(DELIVERED_FLUSH_S * 4)  # receipts and message_status on the wire
            out[str(size)] = {
                "messages": messages, "complete": complete,
                "wire_bytes_per_message": round((_bytes(customer.sock, agent.sock) - wire0) / messages, 1),
                "to_recipient_bytes_per_message": round((agent.sock.bytes_in - down0) / messages, 1),
                "edge_cpu_ms_per_message": round((cpu_seconds(pid) - cpu0) * 1000 / messages, 3),
            }
            sys.stderr.write(f"[compression {mode}] {size} B: {out[str(size)]}\n")
        out["duplicates"] = agent.duplicates
        return out
    finally:
        await customer.close(flush=False)
        await agent.close(flush=False)
        await edge.process.stop()
        system.edges.remove(edge)


def checks(by_mode: dict[str, dict[str, Any]]) -> list[Check]:
    out: list[Check] = []
    for size in map(str, SIZES):
        for mode, result in by_mode.items():
            row = result[size]
            out.append(Check(f"wire bytes/message, {size} B, {mode}", row["wire_bytes_per_message"], unit="B"))
            out.append(Check(f"edge CPU/message, {size} B, {mode}", row["edge_cpu_ms_per_message"], unit="ms"))
            out.append(Check(f"lost messages, {size} B, {mode}", 0 if row["complete"] else 1, "0", row["complete"]))
        if BEFORE in by_mode and AFTER in by_mode and AFTER != BEFORE:
            after, before = by_mode[AFTER][size], by_mode[BEFORE][size]
            out.append(Check(f"wire bytes {AFTER} / {BEFORE}, {size} B",
                             ratio(after["wire_bytes_per_message"], before["wire_bytes_per_message"])))
            out.append(Check(f"edge CPU {AFTER} / {BEFORE}, {size} B",
                             ratio(after["edge_cpu_ms_per_message"], before["edge_cpu_ms_per_message"])))
    for mode, result in by_mode.items():
        out.append(Check(f"duplicates, {mode}", result["duplicates"], "0", result["duplicates"] == 0))
    return out


async def scenario_compression(ctx: Context) -> tuple[dict[str, Any], list[Check]]:
    system = await ctx.system()
    by_mode = {}
    for i, mode in enumerate(MODES):
        by_mode[mode] = await measure_mode(system, mode, ctx.options.wire_messages, FIRST_USER + 10 * i)
    return {"compression": {"sizes": SIZES, "before": BEFORE, "after": AFTER, "modes": by_mode}}, checks(by_mode)
