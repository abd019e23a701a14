"""``offline``: a customer opens a session and goes away; the agent writes a backlog (10,000 by default);
the customer registers again. Measured: time from the ``register`` call to the last backlog message, on one
socket that acknowledges deliveries in batches as a real client does.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from bench.context import Context
from bench.loadgen import MESSAGE_TEXT, UserSpec
from bench.probe import Probe
from bench.protocol import now
from bench.report import Check

CUSTOMER, AGENT = 7_000_001, 7_500_001
WINDOW = 256  # sends in flight while writing the backlog: fast, without flooding the edge
TARGET_S = 5.0


async def write_backlog(agent: Probe, session_id: str, count: int, timeout: float) -> dict[str, Any]:
    """Send ``count`` messages with at most WINDOW unanswered; returns how many the server accepted."""
    assert agent.sock is not None
    accepted, refused, answered = 0, 0, 0
    room = asyncio.Semaphore(WINDOW)
    done = asyncio.Event()

    def on_ack(reply: Any) -> None:
        nonlocal accepted, refused, answered
        answered += 1
        if isinstance(reply, dict) and reply.get("success"):
            accepted += 1
        else:
            refused += 1
        room.release()
        if answered == count:
            done.set()

    started = now()
    async with asyncio.timeout(timeout):
        for i in range(count):
            await room.acquire()
            agent.sock.emit_call("send_message", {"session_id": session_id, "message": MESSAGE_TEXT,
                                                  "role": "agent", "message_type": "text",
                                                  "client_msg_id": f"off:{i}"}, on_ack)
        await done.wait()
    return {"accepted": accepted, "refused": refused, "write_s": round(now() - started, 2)}


async def scenario_offline(ctx: Context) -> tuple[dict[str, Any], list[Check]]:
    system = await ctx.system()
    url, count, deflate = system.edges[0].ws_url, ctx.options.backlog, ctx.options.deflate
    customer = await Probe(UserSpec(CUSTOMER, "user", system.token(CUSTOMER), url, "off-c", deflate)).open()
    agent = await Probe(UserSpec(AGENT, "agent", system.token(AGENT, "agent"), url, "off-a", deflate)).open()
    try:
        session_id = (await customer.call("open_session", {}))["session_id"]
        await agent.call("join_session", {"session_id": session_id})
        await customer.close(flush=False)
        await asyncio.sleep(0.5)  # the edge notices the disconnect; from now on the customer is offline
        written = await write_backlog(agent, session_id, count, timeout=max(120.0, count / 50))
        sys.stderr.write(f"[offline] backlog written: {written}\n")

        back = await Probe(UserSpec(CUSTOMER, "user", system.token(CUSTOMER), url, "off-c", deflate)
                           ).open(register=False)
        started = now()
        await back.register()
        complete = await back.wait_count(written["accepted"], timeout=max(60.0, count / 100))
        arrivals = sorted(back.arrivals.values())
        elapsed = (arrivals[-1] - started) if arrivals else None
        result = {
            "backlog": count, **written, "received": len(back.arrivals), "complete": complete,
            "duplicates": back.duplicates, "lost": written["accepted"] - len(back.arrivals),
            "marked_offline": back.offline_flags,
            "first_message_s": round(arrivals[0] - started, 3) if arrivals else None,
            "all_delivered_s": round(elapsed, 3) if elapsed is not None else None,
            "rate_per_s": round(len(arrivals) / elapsed, 1) if elapsed else None,
        }
        await back.close()
    finally:
        await agent.close(flush=False)
    sys.stderr.write(f"[offline] {result}\n")
    checks = [
        Check(f"offline backlog of {count}: all delivered", result["all_delivered_s"], f"< {TARGET_S:g}",
              None if elapsed is None else (complete and elapsed < TARGET_S), "s"),
        Check("offline lost", result["lost"], "0", result["lost"] == 0),
        Check("offline duplicates", result["duplicates"], "0", result["duplicates"] == 0),
        Check("offline sends failed (refused)", written["refused"], "0", written["refused"] == 0),
    ]
    return {"offline": result}, checks
