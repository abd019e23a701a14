"""``sockets``: idle sockets held by one node, in levels (1k, 5k, 10k): memory per socket for the server and
for the generator separately, registration rate, and — on the real edge — database writes per second caused by
the clients' application heartbeats. The bare relay gets the same levels, connect only.

RSS per socket is (RSS at N − RSS at 0) / N on a node that served nothing before: a fresh edge added to the
deployment, a fresh relay process.

Browsers offer permessage-deflate and what the edge then keeps per socket depends on its
``SWITCHBOARD_WS_COMPRESSION``, so the edge is measured under each setting with clients that offer deflate and
clients that do not, each on a fresh edge, in the same run. The target: with deflate offered, at most 1.1 × the
memory without, under the default setting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import Callable, Mapping
from typing import Any

from bench.context import Context
from bench.launcher import RelayProcess, metric_sum, mysql_status
from bench.loadgen import LoadGenerator, UserSpec, split
from bench.protocol import LeanSocket
from bench.report import Check, ratio
from bench.stats import rss_bytes
from services.connection.settings import Settings as EdgeSettings

TOUCH_METRIC = "switchboard_grpc_server_handled_total"
WRITE_COUNTERS = ("Com_update", "Com_insert", "Com_replace", "Com_delete", "Com_insert_select")
SETTLE_S = 1.0
FIRST_IDLE_USER = 5_000_000
DEFAULT_COMPRESSION = EdgeSettings.ws_compression
DEFLATE_CEILING = 1.1


@dataclasses.dataclass(frozen=True)
class WriteProbe:
    """Where to count the registry's writes: the devices service's metrics port and the MySQL server."""

    devices_http_port: int
    mysql_url: str


async def _levels(ctx: Context, label: str, server_pid: int, url: str, token_for: Callable[[int], str],
                  register: bool, writes: WriteProbe | None, deflate: bool = False) -> dict[str, Any]:
    opts = ctx.options
    gen = LoadGenerator(opts.workers)
    try:
        await gen.ask("status")  # workers are up and idle: their RSS at 0
        await asyncio.sleep(SETTLE_S)
        server0 = rss_bytes(server_pid)
        gen0 = sum(rss_bytes(pid) for pid in gen.pids.values())
        levels, held = [], 0
        for level in opts.socket_levels:
            users = [UserSpec(uid, "user", token_for(uid), url, device_id=f"idle-{uid}", deflate=deflate)
                     for uid in range(FIRST_IDLE_USER + held, FIRST_IDLE_USER + level)]
            replies = await gen.ask("idle_setup", per_worker=[{"users": chunk} for chunk in split(users, opts.workers)],
                                    register=register, heartbeat_interval=opts.heartbeat_interval_s)
            connected = sum(r["connected"] for r in replies)
            failed = sum(r["failed"] for r in replies)
            elapsed = max(r["elapsed_s"] for r in replies)
            held += connected
            await asyncio.sleep(SETTLE_S)
            row: dict[str, Any] = {
                "sockets": held, "failed": failed, "errors": [e for r in replies for e in r["errors"]][:3],
                "register_retries_so_far": sum(r["register_retries"] for r in replies),
                "setup_rate_per_s": round(connected / elapsed, 1) if elapsed else None,
                "server_rss_mib": round(rss_bytes(server_pid) / 2**20, 1),
                "server_kib_per_socket": _per_socket(rss_bytes(server_pid) - server0, held),
                "generator_kib_per_socket": _per_socket(
                    sum(rss_bytes(pid) for pid in gen.pids.values()) - gen0, held),
            }
            if writes is not None:
                row.update(await _heartbeat_writes(gen, writes, opts.heartbeat_window_s))
            levels.append(row)
            sys.stderr.write(f"[sockets {label}] {row}\n")
            if failed:
                break
        return {"levels": levels, "registered": register, "heartbeat_interval_s": opts.heartbeat_interval_s}
    finally:
        await gen.close()


async def _heartbeat_writes(gen: LoadGenerator, probe: WriteProbe, window: float) -> dict[str, Any]:
    """Registry writes per second while the sockets only heartbeat. Each ``TouchConnections`` RPC is one
    UPDATE statement (services/devices/store.py), counted on the devices service's /metrics; MySQL's own
    counters are shown too, but they are server-wide (shared MariaDB, performance_schema off)."""
    before, hb_before, touches_before = await _snapshot(gen, probe)
    await asyncio.sleep(window)
    after, hb_after, touches_after = await _snapshot(gen, probe)
    writes = {k: after.get(k, 0) - before.get(k, 0) for k in WRITE_COUNTERS}
    heartbeats = sum(a["heartbeats_acked"] - b["heartbeats_acked"] for a, b in zip(hb_after, hb_before, strict=True))
    return {"server_disconnected": sum(a["server_disconnected"] for a in hb_after),
            "heartbeat_statements_per_s": round((touches_after - touches_before) / window, 3),
            "mysql_server_wide_writes_per_s": round(sum(writes.values()) / window, 2),
            "mysql_server_wide_by_kind": writes, "heartbeats_acked_per_s": round(heartbeats / window, 1)}


async def _snapshot(gen: LoadGenerator, probe: WriteProbe) -> tuple[dict[str, int], list[dict[str, Any]], float]:
    touches = await asyncio.to_thread(metric_sum, probe.devices_http_port, TOUCH_METRIC, "TouchConnections")
    return await mysql_status(probe.mysql_url, WRITE_COUNTERS), await gen.ask("status"), touches


def _per_socket(delta: int, sockets: int) -> float | None:
    return round(delta / sockets / 1024, 2) if sockets else None


async def run_edge(ctx: Context, compression: str = DEFAULT_COMPRESSION, deflate: bool = False) -> dict[str, Any]:
    """Idle sockets on a fresh edge with ``compression``, from clients that offer deflate or not."""
    system = await ctx.system()
    # fresh: RSS at 0 means no socket ever served
    edge = await system.add_edge(extra_env={"SWITCHBOARD_WS_COMPRESSION": compression})
    assert edge.process.proc is not None
    label = f"{edge.node_id} {compression} {'deflate offered' if deflate else 'no deflate'}"
    result = await _levels(ctx, label, edge.process.proc.pid, edge.ws_url, lambda uid: system.token(uid),
                           register=True, writes=WriteProbe(system.services["devices"].http_port, system.mysql_url),
                           deflate=deflate)
    result.update(compression=compression, deflate_offered=deflate,
                  negotiated=await negotiated(edge.ws_url, system.token(FIRST_IDLE_USER - 1), deflate))
    await edge.process.stop()  # its sockets are gone; it must not count in later scenarios
    system.edges.remove(edge)
    return result


async def negotiated(url: str, token: str, deflate: bool) -> str:
    """What the edge's handshake answers a client offering deflate (or not): the extension header, verbatim."""
    sock = LeanSocket(url, deflate=deflate)
    try:
        await sock.connect({"token": token})
        return sock.negotiated
    finally:
        sock.close()


async def run_compression(ctx: Context) -> dict[str, dict[str, Any]]:
    """Each server setting measured (all of them unless ``--quick``) × deflate offered or not, each on a fresh
    edge."""
    return {mode: {"plain": await run_edge(ctx, mode), "deflate": await run_edge(ctx, mode, deflate=True)}
            for mode in ctx.options.compression_modes}


async def run_relay(ctx: Context, mode: str) -> dict[str, Any]:
    relay = RelayProcess(mode, ctx.log_dir)
    await relay.start()
    try:
        return await _levels(ctx, f"relay-{mode}", relay.pid, relay.url, lambda uid: f"relay-{uid}",
                             register=False, writes=None)
    finally:
        await relay.stop()


def compression_checks(by_mode: Mapping[str, Mapping[str, Any]]) -> list[Check]:
    """Deflate offered vs not, per setting and level; the ceiling applies to the default setting."""
    out: list[Check] = []
    for mode, pair in by_mode.items():
        for plain, deflate in zip(pair["plain"]["levels"], pair["deflate"]["levels"], strict=False):
            n = deflate["sockets"]
            out.append(Check(f"edge KiB/socket @ {n}, {mode}, deflate offered", deflate["server_kib_per_socket"],
                             unit="KiB"))
            r = ratio(deflate["server_kib_per_socket"], plain["server_kib_per_socket"])
            default = mode == DEFAULT_COMPRESSION
            out.append(Check(f"edge deflate / no deflate memory @ {n}, {mode}{' (default)' if default else ''}", r,
                             f"≤ {DEFLATE_CEILING}" if default else "",
                             None if r is None or not default else r <= DEFLATE_CEILING))
            failed = deflate["failed"] + deflate.get("server_disconnected", 0)
            out.append(Check(f"failed sockets @ {n}, {mode}, deflate offered", failed, "0", failed == 0))
    return out


def checks(edge: Mapping[str, Any] | None, relays: Mapping[str, Mapping[str, Any]]) -> list[Check]:
    out: list[Check] = []
    for mode, result in relays.items():
        for row in result["levels"]:
            out.append(Check(f"relay {mode} KiB/socket @ {row['sockets']}", row["server_kib_per_socket"], unit="KiB"))
    if edge is None:
        return out
    for row in edge["levels"]:
        n = row["sockets"]
        out.append(Check(f"edge KiB/socket @ {n}", row["server_kib_per_socket"], unit="KiB"))
        for mode, result in relays.items():
            twin = next((r for r in result["levels"] if r["sockets"] == n), None)
            if twin:
                r = ratio(row["server_kib_per_socket"], twin["server_kib_per_socket"])
                out.append(Check(f"edge / relay {mode} memory @ {n}", r, "≤ 1.1", None if r is None else r <= 1.1))
        out.append(Check(f"generator KiB/socket @ {n}", row["generator_kib_per_socket"], unit="KiB"))
        out.append(Check(f"registrations/s @ {n}", row["setup_rate_per_s"], unit="/s"))
        writes = row.get("heartbeat_statements_per_s")
        out.append(Check(f"heartbeat DB writes/s @ {n} (1 edge)", writes, "≤ 1",
                         None if writes is None else writes <= 1.0, "/s"))
        failed = row["failed"] + row.get("server_disconnected", 0)
        out.append(Check(f"failed sockets @ {n} (refused or closed by the server)", failed, "0", failed == 0))
    return out


async def scenario_sockets(ctx: Context, with_edge: bool = True) -> tuple[dict[str, Any], list[Check]]:
    relays = {}
    for mode in ctx.options.relay_modes:
        relays[mode] = await run_relay(ctx, mode)
    if not with_edge:
        return {"sockets": {"edge": None, "relay": relays}}, checks(None, relays)
    by_mode = await run_compression(ctx)
    edge = by_mode[DEFAULT_COMPRESSION]["plain"] if DEFAULT_COMPRESSION in by_mode else await run_edge(ctx)
    return ({"sockets": {"edge": edge, "compression": by_mode, "relay": relays}},
            checks(edge, relays) + compression_checks(by_mode))
