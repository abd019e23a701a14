"""The traffic driver: customer↔agent conversations kept going through the SDK while a fault is injected.

Each conversation is a customer and an agent, each one SDK client (one device) on a different edge first,
both sending at a steady pace, so every session carries traffic in both directions before, during and after the
fault. A few devices also disconnect and reconnect on their own, as phones do, so recovery paths (offline push
at registration) run alongside the fault's. One customer may live in a child process
(:mod:`tests.faults.remote_client`) so that the client itself can be SIGKILLed with messages in its persisted
outbox. Everything a device sees is in its :class:`~tests.faults.records.DeviceRecord`; the verdict is
computed from those and the database (:mod:`tests.faults.checks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import os
import random
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import IO, Any, Protocol

from client import AsyncWebSocketClient, QueueFullError
from protos.messaging_pb2 import OpenSessionRequest
from switchboard.deployment import Deployment
from switchboard.runner import ManagedProcess
from tests.faults.records import DeviceRecord, Recorder

REPO = Path(__file__).parents[2]

#: Fast reconnects and a quick dead-link verdict, as a mobile app tuned for chat would use.
CLIENT_SETTINGS: dict[str, Any] = {
    "retry_interval": 0.1, "max_retry_interval": 1.0, "heartbeat_interval": 1.0, "heartbeat_timeout": 2.0,
    "gap_timeout": 0.3, "send_timeout": 3.0, "request_timeout": 10.0, "connect_timeout": 3.0,
    "max_queue_size": 10_000,
}


def url_list_supported() -> bool:
    """Whether the SDK takes a list of edge URLs (fail-over). Until it does, a client gets its first URL only,
    and the table says so."""
    annotation = str(inspect.signature(AsyncWebSocketClient.__init__).parameters["server_url"].annotation)
    return any(word in annotation for word in ("list", "Sequence", "Iterable"))


def make_client(urls: list[str], queue_path: Path | None = None) -> AsyncWebSocketClient:
    target: Any = urls if url_list_supported() else urls[0]
    return AsyncWebSocketClient(target, queue_path=queue_path, **CLIENT_SETTINGS)


class Device(Protocol):
    """What the verdict needs from a device, wherever it runs."""

    @property
    def record(self) -> DeviceRecord: ...

    def pending(self) -> int:
        """Messages sent and not acknowledged yet."""
        ...


class LocalDevice:
    """One SDK client on this event loop (in the test process, or in the child process of a remote one)."""

    def __init__(self, user_id: int, role: str, token: str, urls: list[str], queue_path: Path | None = None,
                 journal: IO[str] | None = None, device_id: str | None = None) -> None:
        self.user_id, self.role, self.token = user_id, role, token
        self.record = DeviceRecord(user_id, device_id or f"{role}-{user_id}")
        self.recorder = Recorder(self.record, journal)
        self.client = make_client(urls, queue_path)
        self.recorder.attach(self.client)

    async def connect(self, timeout: float | None = 30) -> None:
        connected = await self.client.connect(self.user_id, self.token, device_id=self.record.device_id,
                                              timeout=timeout)
        assert connected or timeout == 0, f"{self.record.device_id} did not connect within {timeout}s"

    def send(self, session_id: str) -> None:
        """Queue one message; it is recorded as sent once the SDK has it (persisted, with a queue_path)."""
        client_msg_id = uuid.uuid4().hex
        text = f"{self.record.device_id}/{client_msg_id[:12]}"
        with contextlib.suppress(QueueFullError):  # refused at once: not sent, so nothing to lose
            self.client.send_message(session_id, text, role=self.role, client_msg_id=client_msg_id)
            self.recorder.note("sent", client_msg_id=client_msg_id, session_id=session_id, text=text,
                               at=time.monotonic())

    def pending(self) -> int:
        return self.client.pending_count()

    async def bounce(self, down_seconds: float) -> None:
        """Go away and come back on its own, like a phone switching networks."""
        await self.client.disconnect()
        await asyncio.sleep(down_seconds)
        await self.connect(timeout=0)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.close()


async def keep_sending(device: LocalDevice, session_id: str, interval: float, stop: asyncio.Event) -> None:
    """One message every ``interval`` (jittered so devices do not beat in step) until ``stop``."""
    while not stop.is_set():
        device.send(session_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval * random.uniform(0.5, 1.5))


class RemoteDevice:
    """A customer whose SDK runs in a child process (``python -m tests.faults.remote_client``), so the fault
    can be the client process dying with messages in its outbox. Its record is replayed from the journal
    the child writes; a restart keeps the device id, the outbox file and the journal."""

    def __init__(self, system: Deployment, user_id: int, session_id: str, urls: list[str], workdir: Path,
                 interval: float) -> None:
        self.user_id, self.workdir = user_id, workdir
        self.device_id = f"remote-{user_id}"
        self.journal = workdir / f"{self.device_id}.jsonl"
        self.stop_file = workdir / f"{self.device_id}.stop"
        self.die_file = workdir / f"{self.device_id}.die"
        argv = [sys.executable, "-m", "tests.faults.remote_client", "--urls", ",".join(urls),
                "--user-id", str(user_id), "--token", system.token(user_id, "user"), "--device-id", self.device_id,
                "--queue", str(workdir / f"{self.device_id}.outbox.db"), "--journal", str(self.journal),
                "--stop-file", str(self.stop_file), "--die-file", str(self.die_file), "--session", session_id,
                "--interval", str(interval)]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = ManagedProcess(self.device_id, argv, env, log_path=workdir / f"{self.device_id}.log")

    @property
    def record(self) -> DeviceRecord:
        return DeviceRecord.replay(self.user_id, self.device_id, self.journal)

    def pending(self) -> int:
        record = self.record
        return len(set(record.sent) - set(record.acked) - record.failed)

    async def start(self, timeout: float = 30) -> None:
        """Start the child and wait until it is connected (it journals its session then)."""
        known = len(self.record.sessions)
        await self.process.start()
        deadline = time.monotonic() + timeout
        while len(self.record.sessions) <= known:
            if not self.process.running or time.monotonic() > deadline:
                raise RuntimeError(f"{self.device_id} did not connect; see {self.process.log_path}")
            await asyncio.sleep(0.1)

    async def die_with_full_outbox(self, timeout: float = 10) -> int:
        """Have the child queue a burst and SIGKILL itself; return how many messages its outbox held."""
        self.die_file.touch()
        await self.process.wait_stopped(timeout)
        assert self.process.proc is not None and self.process.proc.returncode == -signal.SIGKILL
        return int(self.record.notes.get("dying", {}).get("pending", -1))

    def stop_sending(self) -> None:
        self.stop_file.touch()

    async def close(self) -> None:
        await self.process.stop()


@dataclasses.dataclass(frozen=True)
class Conversation:
    session_id: str
    customer: Device
    agent: Device


@dataclasses.dataclass(frozen=True)
class TrafficPlan:
    pairs: int
    interval: float  # seconds between two messages of one device
    bouncers: int  # local devices that disconnect and reconnect on their own
    bounce_every: float = 4.0
    bounce_down: float = 0.5
    remote_customer: bool = False  # one more conversation whose customer runs in a child process
    second_devices: int = 0  # customers with a second device (the other edge first); one bounces, one lags
    laggard_away: float = 1.5  # the lagging second device is away for the last seconds of traffic


class Traffic:
    """Conversations over a deployment's first two edges: pair ``i``'s customer prefers edge ``i % 2`` and its
    agent the other one, so each session crosses edges and each edge serves customers and agents."""

    CUSTOMER_IDS, AGENT_IDS, REMOTE_ID = 100_000, 200_000, 300_000

    def __init__(self, system: Deployment, plan: TrafficPlan, workdir: Path) -> None:
        self.system, self.plan, self.workdir = system, plan, workdir
        self.conversations: list[Conversation] = []
        self.local: list[LocalDevice] = []
        self.remote: RemoteDevice | None = None
        self.laggard: LocalDevice | None = None
        self._stop, self._stop_bouncing, self._laggard_stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self._sending: list[asyncio.Task[None]] = []
        self._bouncing: list[asyncio.Task[None]] = []

    @property
    def devices(self) -> list[Device]:
        return [*self.local, *([self.remote] if self.remote else [])]

    def _urls(self, preferred: int) -> list[str]:
        edges = self.system.edges
        return [edges[(preferred + k) % len(edges)].url for k in range(len(edges))]

    def _local(self, user_id: int, role: str, preferred_edge: int, device_id: str | None = None) -> LocalDevice:
        device = LocalDevice(user_id, role, self.system.token(user_id, role), self._urls(preferred_edge),
                             device_id=device_id)
        self.local.append(device)
        return device

    async def start(self) -> None:
        """Connect everyone, open and join the sessions, then start sending (second devices are connected
        before the first message, so they owe every message of their session too)."""
        pairs = [(self._local(self.CUSTOMER_IDS + i, "user", i % 2),
                  self._local(self.AGENT_IDS + i, "agent", 1 - i % 2)) for i in range(self.plan.pairs)]
        await asyncio.gather(*(device.connect() for device in self.local))
        sessions = await asyncio.gather(*(self._pair_up(customer, agent) for customer, agent in pairs))
        seconds = [self._local(self.CUSTOMER_IDS + i, "user", 1 - i % 2, f"user-{self.CUSTOMER_IDS + i}-b")
                   for i in range(min(self.plan.second_devices, self.plan.pairs))]
        await asyncio.gather(*(device.connect() for device in seconds))
        self.conversations += [Conversation(session_id, customer, agent)
                               for (customer, agent), session_id in zip(pairs, sessions, strict=True)]
        self.laggard = seconds[1] if len(seconds) > 1 else None
        senders = [(device, session_id) for pair, session_id in zip(pairs, sessions, strict=True) for device in pair]
        senders += list(zip(seconds, sessions, strict=False))
        self._sending += [asyncio.create_task(keep_sending(
            device, session_id, self.plan.interval, self._laggard_stop if device is self.laggard else self._stop))
            for device, session_id in senders]
        if self.plan.remote_customer:
            await self._start_remote()
        primaries = [device for pair in pairs for device in pair]
        bouncing_seconds = seconds[: min(1, self.plan.bouncers)]
        step = max(1, len(primaries) // max(1, self.plan.bouncers))
        for device in primaries[::step][: self.plan.bouncers - len(bouncing_seconds)] + bouncing_seconds:
            self._bouncing.append(asyncio.create_task(self._keep_bouncing(device)))

    async def _pair_up(self, customer: LocalDevice, agent: LocalDevice) -> str:
        session_id = await customer.client.open_session()
        await agent.client.join_session(session_id)
        return session_id

    async def _start_remote(self) -> None:
        """The session is opened (gRPC, as a backend would) and joined before the child starts sending to it,
        so every message it sends is owed to the agent."""
        agent = self._local(self.REMOTE_ID + 1, "agent", 1)
        await agent.connect()
        opened = await self.system.messaging_stub().OpenSession(OpenSessionRequest(user_id=self.REMOTE_ID))
        session_id = opened.session.session_id
        await agent.client.join_session(session_id)
        self.remote = RemoteDevice(self.system, self.REMOTE_ID, session_id, self._urls(0), self.workdir,
                                   self.plan.interval)
        await self.remote.start()
        self.conversations.append(Conversation(session_id, self.remote, agent))
        self._sending.append(asyncio.create_task(keep_sending(agent, session_id, self.plan.interval, self._stop)))

    async def _keep_bouncing(self, device: LocalDevice) -> None:
        while not self._stop_bouncing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop_bouncing.wait(), self.plan.bounce_every * random.uniform(0.7, 1.3))
            if not self._stop_bouncing.is_set():
                await device.bounce(self.plan.bounce_down)

    async def stop(self) -> None:
        """End the traffic so that every device ends connected. The lagging second device is away for the last
        ``laggard_away`` seconds (a phone in a pocket while its owner's laptop and the agent go on talking):
        each session's last messages must reach it too once it is back, with nothing left to reveal a gap."""
        self._stop_bouncing.set()
        await asyncio.gather(*self._bouncing)  # a bounce under way finishes
        if self.laggard is not None:
            self._laggard_stop.set()
            await self.laggard.client.disconnect()
            await asyncio.sleep(self.plan.laggard_away)
        self._stop.set()
        self._laggard_stop.set()
        if self.remote is not None:
            self.remote.stop_sending()
        await asyncio.gather(*self._sending)
        if self.laggard is not None:
            await self.laggard.connect(timeout=0)

    def pending(self) -> int:
        return sum(device.pending() for device in self.devices)

    async def close(self) -> None:
        for event in (self._stop, self._stop_bouncing, self._laggard_stop):
            event.set()
        tasks = self._sending + self._bouncing
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(device.close() for device in self.local))
        if self.remote is not None:
            await self.remote.close()
