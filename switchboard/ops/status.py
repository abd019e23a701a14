"""``switchboard status``: the system at a glance — edges and their sockets, online users, the offline backlog,
the retry queue by status and the inbox stream's state.

Each part is read on its own and a part that cannot be read says why without hiding the others: during an
incident the status of what still answers is what the operator needs. The exit status is 1 when any part was
unreachable."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from protos import devices_pb2
from switchboard.nats import Subjects
from switchboard.ops.output import table
from switchboard.ops.sources import Sources

RETRY_STATUSES = ("pending", "processing", "completed", "failed")
Part = Callable[[Sources], Awaitable[str]]


class PartialFailure(Exception):
    """A part that read something but not everything: its output is shown, and the run fails."""

    def __init__(self, output: str, reason: str) -> None:
        super().__init__(reason)
        self.output = output


async def edges(src: Sources) -> str:
    states = await asyncio.gather(*(src.edge(url) for url in src.settings.edges), return_exceptions=True)
    rows: list[tuple[object, ...]] = []
    for url, state in zip(src.settings.edges, states, strict=True):
        if isinstance(state, BaseException):
            rows.append((url, f"unreachable: {type(state).__name__}", None, None, None))
        else:
            m = state.metrics
            rows.append((url, "ready" if state.ready else "NOT READY", int(m.get("switchboard_edge_sockets", 0)),
                         int(m.get("switchboard_edge_registered_sockets", 0)),
                         int(m.get("switchboard_edge_watched_users", 0))))
    unreachable = sum(isinstance(s, BaseException) for s in states)
    out = table(("edge (admin)", "state", "sockets", "registered", "users watched"), rows)
    if unreachable:
        raise PartialFailure(out, f"{unreachable} edge(s) unreachable")
    return out


async def registry(src: Sources) -> str:
    stats = await src.devices().RegistryStats(devices_pb2.RegistryStatsRequest())
    head = (f"online users: {stats.online_users:,}   connected sockets: {stats.connections:,}   "
            f"active devices: {stats.active_devices:,}")
    nodes = table(("node", "sockets", "users"), [(n.node_id, n.connections, n.users) for n in stats.nodes])
    return f"{head}\n{nodes}"


async def backlog(src: Sources) -> str:
    ((count, oldest),) = await src.query(
        "SELECT COUNT(*), UNIX_TIMESTAMP(MIN(created_at)) FROM offline_messages WHERE delivered = FALSE")
    age = f" (oldest {time.time() - float(oldest):,.0f} s ago)" if count else ""
    return f"undelivered messages: {count:,}{age}"


async def retry_queue(src: Sources) -> str:
    counts = dict(await src.query("SELECT status, COUNT(*) FROM message_queue GROUP BY status"))
    return table(("status", "rows"), [(status, int(counts.get(status, 0))) for status in RETRY_STATUSES])


async def stream(src: Sources) -> str:
    name = Subjects(src.settings.nats_prefix).inbox_stream
    info = await src.stream_info(name)
    state, cluster = info.state, info.cluster
    rows = [(name, state.messages, state.bytes, state.consumer_count, state.first_seq, state.last_seq,
             info.config.num_replicas, cluster.leader if cluster else None)]
    return table(("stream", "messages", "bytes", "consumers", "first seq", "last seq", "replicas", "leader"), rows)


PARTS: tuple[tuple[str, Part], ...] = (
    ("Edges", edges), ("Registry (devices)", registry), ("Offline backlog (MySQL)", backlog),
    ("Retry queue (MySQL)", retry_queue), ("NATS JetStream", stream),
)


async def run(src: Sources) -> tuple[str, bool]:
    """The report, and whether every part was read."""
    results = await asyncio.gather(*(part(src) for _, part in PARTS), return_exceptions=True)
    sections, ok = [], True
    for (title, _), result in zip(PARTS, results, strict=True):
        if isinstance(result, PartialFailure):
            ok = False
            body = f"{result.output}\n{result}"
        elif isinstance(result, BaseException):
            ok = False
            body = f"unreachable: {type(result).__name__}: {result}".rstrip(": ")
        else:
            body = result
        sections.append(f"== {title}\n{body}")
    return "\n\n".join(sections), ok
