"""The load generator: worker processes, each an asyncio loop of :class:`LeanSocket` connections, driven by the
bench process over pipes.

Why processes: one Python process saturates a core long before the system under test does; spreading the
sockets over several workers and letting each report its own CPU lets the report say whether the generator,
not the server, was the limit. Both sides of a customer↔agent pair live in the same worker, so send and
receive times come from one clock.

Latency is measured from the *intended* send time of an open-loop schedule (``t0 + i / rate``), so a slow
generator or a stalled server cannot hide queueing delay (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import os
import random
import time
import uuid
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from bench.protocol import LeanSocket, now
from bench.stats import rss_bytes

DEVICE_INFO = {"device_name": "bench", "device_type": "desktop", "platform": "Linux", "browser": "bench",
               "os_version": "1", "app_version": "0.0.1"}
DELIVERED_FLUSH_S = 0.05  # batched message_delivered acks, as a real client would send them
COMMAND_TIMEOUT_S = 600.0
SEND_TICK_S = 0.001
# A register answered INTERNAL/UNAVAILABLE is retried, as a real client would, and counted: the report shows
# how often the registry failed under concurrent registrations instead of aborting the run.
REGISTER_ATTEMPTS = 4
RETRYABLE = {"INTERNAL", "UNAVAILABLE"}
REGISTER_RETRIES = [0]  # per process
MESSAGE_TEXT = "x" * 100  # 100-byte messages, as in the field notes' relay measurement


@dataclasses.dataclass(frozen=True)
class UserSpec:
    """Who a socket is and where it connects. Tokens are minted by the bench process, which knows the secret."""

    user_id: int
    role: str
    token: str
    url: str
    device_id: str = ""
    deflate: bool = False  # offer permessage-deflate as browsers do (bench/protocol.py)
    push_token: str = ""  # registered after ``register`` (an FCM token), as the mobile app does at start-up

    def register_payload(self, connection_id: str) -> dict[str, Any]:
        return {"user_id": self.user_id, "token": self.token, "connection_id": connection_id,
                "device_id": self.device_id or f"bench-{self.user_id}", "device_info": DEVICE_INFO}


@dataclasses.dataclass(frozen=True)
class PairSpec:
    customer: UserSpec
    agent: UserSpec


class SetupError(RuntimeError):
    """A socket could not connect, register, open or join: the run cannot measure anything meaningful."""


async def open_socket(spec: UserSpec, on_event: Any = None, register: bool = True) -> LeanSocket:
    """Connect with the token as auth and (optionally) register; raise :class:`SetupError` on any refusal."""
    sock = LeanSocket(spec.url, on_event, deflate=spec.deflate)
    sock.user = str(uuid.uuid4())  # the connection id: heartbeats must name the one registered
    await sock.connect({"token": spec.token})
    for attempt in range(REGISTER_ATTEMPTS if register else 0):
        reply = await sock.call("register", spec.register_payload(sock.user))
        if isinstance(reply, dict) and reply.get("success"):
            break
        retryable = isinstance(reply, dict) and (reply.get("error") or {}).get("code") in RETRYABLE
        if not retryable or attempt == REGISTER_ATTEMPTS - 1:
            sock.close()
            raise SetupError(f"register refused for user {spec.user_id}: {reply}")
        REGISTER_RETRIES[0] += 1
        await asyncio.sleep(0.05 * 2**attempt)
    if register and spec.push_token:
        reply = await sock.call("update_push_token", {"push_token": {"provider": "fcm", "token": spec.push_token}})
        if not (isinstance(reply, dict) and reply.get("success")):
            sock.close()
            raise SetupError(f"update_push_token refused for user {spec.user_id}: {reply}")
    return sock


class _Pair:
    """A live pair: two sockets and their session."""

    __slots__ = ("agent", "customer", "session_id")

    def __init__(self, customer: LeanSocket, agent: LeanSocket, session_id: str) -> None:
        self.customer, self.agent, self.session_id = customer, agent, session_id


class Worker:
    """Runs inside a worker process; every public coroutine answers one command from the bench process."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id
        self.pairs: list[_Pair] = []
        self.idle: list[LeanSocket] = []
        self.step = 0
        self.sent_at: dict[str, float] = {}  # client_msg_id → intended send time, until received
        self.unacked: dict[str, float] = {}  # client_msg_id → intended send time, until acked
        self.received: set[str] = set()
        self.duplicates = 0
        self.rejected = 0
        self.unknown = 0
        self.step_ack: list[float] = []
        self.step_e2e: list[float] = []
        self.step_received = 0
        self.step_answered = 0
        self.late = 0
        self.heartbeats_acked = 0
        self._dirty: dict[LeanSocket, list[int]] = {}
        self._background: list[asyncio.Task[None]] = []

    # ---- events ------------------------------------------------------------------------------------------
    def on_event(self, sock: LeanSocket, name: str, data: Any) -> None:
        if name != "new_message" or not isinstance(data, dict):
            return
        self._dirty.setdefault(sock, []).append(data.get("id"))
        cmid = data.get("client_msg_id")
        sent = self.sent_at.pop(cmid, None)
        if sent is None:
            if cmid in self.received:
                self.duplicates += 1
            else:
                self.unknown += 1
            return
        self.received.add(cmid)
        if cmid.split(":", 2)[1] == str(self.step):
            self.step_e2e.append(now() - sent)
            self.step_received += 1
        else:
            self.late += 1

    def _on_ack(self, cmid: str, reply: Any) -> None:
        sent = self.unacked.pop(cmid, None)
        this_step = cmid.split(":", 2)[1] == str(self.step)
        self.step_answered += this_step
        if not (isinstance(reply, dict) and reply.get("success")):
            self.rejected += 1
            self.sent_at.pop(cmid, None)  # refused, so never delivered: not a loss
            return
        if sent is not None and this_step:
            self.step_ack.append(now() - sent)

    async def _flush_delivered(self) -> None:
        """Batched ``message_delivered``: one call per socket per flush, as the contract allows."""
        for _ in range(10**9):  # bounded: ends with the process (cancelled at close)
            await asyncio.sleep(DELIVERED_FLUSH_S)
            dirty, self._dirty = self._dirty, {}
            for sock, ids in dirty.items():
                if not sock.closed:
                    sock.emit_call("message_delivered", {"message_ids": ids}, _ignore)

    # ---- commands ----------------------------------------------------------------------------------------
    async def pairs_setup(self, pairs: Sequence[PairSpec], heartbeat_interval: float,
                          concurrency: int = 20) -> dict[str, Any]:
        """Connect and register both sides, open the session as the customer, join it as the agent. Both then
        heartbeat like real clients: the edge closes sockets that stay silent past its timeout."""
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()

        async def one(spec: PairSpec) -> _Pair:
            async with gate:
                customer = await open_socket(spec.customer, self.on_event)
                agent = await open_socket(spec.agent, self.on_event)
                opened = await customer.call("open_session", {})
                if not (isinstance(opened, dict) and opened.get("success")):
                    raise SetupError(f"open_session refused: {opened}")
                joined = await agent.call("join_session", {"session_id": opened["session_id"]})
                if not (isinstance(joined, dict) and joined.get("success")):
                    raise SetupError(f"join_session refused: {joined}")
                return _Pair(customer, agent, opened["session_id"])

        self.pairs = list(await asyncio.gather(*(one(p) for p in pairs)))
        self._background.append(asyncio.create_task(self._flush_delivered()))
        self._start_heartbeats(heartbeat_interval)
        return {"pairs": len(self.pairs), "elapsed_s": time.monotonic() - started,
                "register_retries": REGISTER_RETRIES[0]}

    async def run_step(self, rate: float, duration: float, drain: float) -> dict[str, Any]:
        """Send at ``rate`` msg/s (this worker's share) for ``duration`` s, then wait up to ``drain`` s for the
        step's messages to arrive and be acked."""
        self.step += 1
        self.step_ack, self.step_e2e, self.step_received, self.step_answered, self.late = [], [], 0, 0, 0
        rejected_before = self.rejected
        total = int(rate * duration)
        npairs = len(self.pairs)
        cpu0, wall0 = time.process_time(), time.monotonic()
        max_lag, sent = 0.0, 0
        t0 = now()
        tag = f"{self.worker_id}:{self.step}:"
        deadline = t0 + duration + 5.0
        while sent < total and now() < deadline:
            t = now()
            due = min(total, int((t - t0) * rate) + 1)
            if due > sent:
                max_lag = max(max_lag, t - (t0 + sent / rate))
            while sent < due:
                pair = self.pairs[sent % npairs]
                forward = (sent // npairs) % 2 == 0
                sock, role = (pair.customer, "user") if forward else (pair.agent, "agent")
                cmid = f"{tag}{sent}"
                intended = t0 + sent / rate
                self.sent_at[cmid] = intended
                self.unacked[cmid] = intended
                sock.emit_call("send_message", {"session_id": pair.session_id, "message": MESSAGE_TEXT,
                                                "role": role, "message_type": "text", "client_msg_id": cmid},
                               lambda reply, cmid=cmid: self._on_ack(cmid, reply))
                sent += 1
            # A fixed tick, not "until the next message": at thousands/s that would spin the loop on sub-ms
            # sleeps. Sends due within a tick go out together; the ≤ 1 ms wait counts in the latency.
            await asyncio.sleep(SEND_TICK_S)
        send_wall = now() - t0
        drain_end = now() + drain
        # polling (bounded by drain_end) keeps an Event.set() off the per-message path
        while now() < drain_end and (self.step_answered < sent  # noqa: ASYNC110
                                     or self.step_received + self.rejected - rejected_before < sent):
            await asyncio.sleep(0.01)
        return {
            "worker": self.worker_id, "sent": sent, "received": self.step_received,
            "acked": len(self.step_ack), "rejected": self.rejected - rejected_before, "late": self.late,
            "ack_s": self.step_ack, "e2e_s": self.step_e2e, "send_wall_s": send_wall,
            "max_lag_s": max_lag, "cpu_s": time.process_time() - cpu0, "wall_s": time.monotonic() - wall0,
        }

    async def settle(self, within: float) -> dict[str, Any]:
        """Wait until nothing is in flight (or ``within`` s); then report what never arrived or was duplicated."""
        end = now() + within
        while (self.sent_at or self.unacked) and now() < end:  # noqa: ASYNC110 - as above
            await asyncio.sleep(0.05)
        return {"worker": self.worker_id, "lost": len(self.sent_at), "unacked": len(self.unacked),
                "server_disconnected": sum(s.server_disconnected for s in self._sockets()),
                "duplicates": self.duplicates, "rejected": self.rejected, "unknown": self.unknown,
                "received": len(self.received)}

    async def idle_setup(self, users: Sequence[UserSpec], register: bool, heartbeat_interval: float,
                         concurrency: int = 64) -> dict[str, Any]:
        """Add idle sockets (connect, optionally register); they then only heartbeat. Returns the rate."""
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()
        failures: list[str] = []

        async def one(spec: UserSpec) -> LeanSocket | None:
            async with gate:
                try:
                    return await open_socket(spec, None, register)
                except (SetupError, OSError, TimeoutError, Exception) as exc:  # counted, never fatal here
                    failures.append(repr(exc)[:200])
                    return None

        fresh = [s for s in await asyncio.gather(*(one(u) for u in users)) if s is not None]
        elapsed = time.monotonic() - started
        self.idle.extend(fresh)
        if register:
            self._start_heartbeats(heartbeat_interval)
        return {"connected": len(fresh), "failed": len(failures), "errors": failures[:3],
                "register_retries": REGISTER_RETRIES[0],
                "elapsed_s": elapsed, "rss": rss_bytes(os.getpid())}

    def _start_heartbeats(self, interval: float) -> None:
        if interval > 0 and not any(t.get_name() == "hb" for t in self._background):
            self._background.append(asyncio.create_task(self._heartbeats(interval), name="hb"))

    def _sockets(self) -> list[LeanSocket]:
        return [s for p in self.pairs for s in (p.customer, p.agent)] + self.idle

    async def _heartbeats(self, interval: float) -> None:
        """Each socket sends ``heartbeat`` every ``interval`` s at a random phase, as clients spread out."""
        phase: dict[LeanSocket, float] = {}
        tick = 0.1
        for _ in range(10**9):  # bounded: ends with the process (cancelled at close)
            t = now()
            for sock in self._sockets():
                due = phase.get(sock)
                if due is None:
                    phase[sock] = t + random.uniform(0, interval)
                elif t >= due and not sock.closed:
                    phase[sock] = due + interval
                    sock.emit_call("heartbeat", {"connection_id": sock.user}, self._heartbeat_acked)
            await asyncio.sleep(tick)

    def _heartbeat_acked(self, reply: Any) -> None:
        self.heartbeats_acked += 1

    async def status(self) -> dict[str, Any]:
        return {"worker": self.worker_id, "rss": rss_bytes(os.getpid()), "idle": len(self.idle),
                "server_disconnected": sum(s.server_disconnected for s in self._sockets()),
                "heartbeats_acked": self.heartbeats_acked, "cpu_s": time.process_time()}

    async def close(self) -> dict[str, Any]:
        for task in self._background:
            task.cancel()
        for pair in self.pairs:
            pair.customer.close()
            pair.agent.close()
        for sock in self.idle:
            sock.close()
        await asyncio.sleep(0.2)
        return {"worker": self.worker_id, "closed": True}


def _ignore(_reply: Any) -> None:
    """Delivery acks are fire-and-forget for the generator; the server's bookkeeping is not what we time."""


# ---- process plumbing ------------------------------------------------------------------------------------
async def _readable(conn: Connection, timeout: float) -> None:
    """Wait for a pipe to have data without a thread, so a timeout really ends the wait. The loop makes the fd
    non-blocking while it watches it; it is made blocking again so that ``recv``/``send`` of a large reply
    (latency samples) never stop half-way with EAGAIN."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_reader(conn.fileno(), lambda: ready.done() or ready.set_result(None))
    try:
        await asyncio.wait_for(ready, timeout)
    finally:
        loop.remove_reader(conn.fileno())
        os.set_blocking(conn.fileno(), True)


async def _serve(conn: Connection, worker_id: int) -> None:
    worker = Worker(worker_id)
    for _ in range(10**6):  # bounded: one iteration per command
        await _readable(conn, COMMAND_TIMEOUT_S * 4)
        op, kwargs = conn.recv()
        try:
            reply: Any = await getattr(worker, op)(**kwargs)
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        conn.send(reply)
        if op == "close":
            return


def _worker_entry(conn: Connection, worker_id: int) -> None:
    """Child process main. uvloop when present: the generator should be as cheap as the server can be."""
    try:
        import uvloop

        uvloop.run(_serve(conn, worker_id))
    except ImportError:
        asyncio.run(_serve(conn, worker_id))


class LoadGenerator:
    """The bench-side handle on the worker processes: start them, broadcast commands, gather replies."""

    def __init__(self, workers: int) -> None:
        ctx = multiprocessing.get_context("spawn")  # never fork a process that runs an event loop
        self.conns: list[Connection] = []
        self.procs: list[multiprocessing.process.BaseProcess] = []
        for wid in range(workers):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_worker_entry, args=(child, wid), name=f"bench-gen-{wid}", daemon=True)
            proc.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(proc)

    @property
    def pids(self) -> dict[str, int]:
        return {f"gen-{i}": p.pid for i, p in enumerate(self.procs) if p.pid is not None}

    async def ask(self, op: str, per_worker: Sequence[dict[str, Any]] | None = None,
                  timeout: float = COMMAND_TIMEOUT_S, **common: Any) -> list[dict[str, Any]]:
        """Send ``op`` to every worker (with its own kwargs from ``per_worker``, plus ``common``); gather replies
        and raise if any worker reports an error."""
        for i, conn in enumerate(self.conns):
            conn.send((op, {**(per_worker[i] if per_worker else {}), **common}))

        async def reply(conn: Connection) -> dict[str, Any]:
            await _readable(conn, timeout)
            return conn.recv()

        replies = await asyncio.gather(*(reply(c) for c in self.conns))
        errors = [r["error"] for r in replies if isinstance(r, dict) and "error" in r]
        if errors:
            raise SetupError(f"generator {op} failed: {errors[0]}")
        return replies

    async def close(self) -> None:
        try:
            await self.ask("close", timeout=10)
        except Exception:  # best effort: terminate below whatever state they are in
            pass
        for proc in self.procs:
            proc.join(timeout=3)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=3)


def split(items: Sequence[Any], parts: int) -> list[list[Any]]:
    """Round-robin ``items`` over ``parts`` workers."""
    return [list(items[i::parts]) for i in range(parts)]
