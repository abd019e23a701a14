"""``fanout``: one customer with 5 devices spread over 2 edge nodes (3 + 2); the agent sends one message at a
time; measured: time from the send until all 5 devices have it (and until the last device on each node).
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
from bench.stats import percentiles

CUSTOMER, AGENT = 8_000_001, 8_500_001
DEVICES = 5
TIMEOUT_S = 10.0
GAP_S = 0.01  # between rounds: measure one message's fan-out, not a queue


async def scenario_fanout(ctx: Context) -> tuple[dict[str, Any], list[Check]]:
    system = await ctx.system()
    edges = system.edges[:2]
    token = system.token(CUSTOMER)
    deflate = ctx.options.deflate
    devices = [Probe(UserSpec(CUSTOMER, "user", token, edges[min(i // 3, len(edges) - 1)].ws_url, f"fan-{i}",
                              deflate))
               for i in range(DEVICES)]
    agent = Probe(UserSpec(AGENT, "agent", system.token(AGENT, "agent"), edges[0].ws_url, "fan-agent", deflate))
    probes = [*devices, agent]
    all_s: list[float] = []
    lost = 0
    try:
        for probe in probes:
            await probe.open()
        session_id = (await devices[0].call("open_session", {}))["session_id"]
        await agent.call("join_session", {"session_id": session_id})
        assert agent.sock is not None
        for i in range(ctx.options.fanout_rounds):
            cmid = f"fan:{i}"
            sent = now()
            agent.sock.emit_call("send_message", {"session_id": session_id, "message": MESSAGE_TEXT,
                                                  "role": "agent", "message_type": "text", "client_msg_id": cmid},
                                 lambda _r: None)
            arrived = await asyncio.gather(*(d.wait_for(cmid, TIMEOUT_S) for d in devices))
            if any(t is None for t in arrived):
                lost += sum(t is None for t in arrived)
            else:
                all_s.append(max(t for t in arrived if t is not None) - sent)
            await asyncio.sleep(GAP_S)
        duplicates = sum(d.duplicates for d in devices)
    finally:
        for probe in probes:
            await probe.close(flush=False)
    result = {"devices": DEVICES, "edges": len(edges), "rounds": ctx.options.fanout_rounds,
              "all_devices_ms": percentiles(all_s), "lost_deliveries": lost, "duplicates": duplicates}
    sys.stderr.write(f"[fanout] {result}\n")
    pct = result["all_devices_ms"]
    checks = [
        Check(f"fanout to {DEVICES} devices on {len(edges)} edges p50", pct["p50"], unit="ms"),
        Check(f"fanout to {DEVICES} devices on {len(edges)} edges p99", pct["p99"], unit="ms"),
        Check("fanout lost", lost, "0", lost == 0),
        Check("fanout duplicates", duplicates, "0", duplicates == 0),
    ]
    return {"fanout": result}, checks
