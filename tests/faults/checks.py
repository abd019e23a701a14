"""The verdict of one scenario, from the database and every device's record.

Definitions (what the issue promises, per acknowledged message):

* **lost** — an acknowledged message missing from ``chat_messages``, or never shown on a device of the other
  participant. A message its sender never got an ack for is not lost (it is "unacked").
* **own copies missed** — an acknowledged message never shown on another device of its own sender. That copy is
  a core-NATS event with no ``offline_messages`` row: a device away at that moment gets it from the SDK's
  catch-up ``sync`` of every known session when it reconnects.
* **duplicates** — a message shown more than once on one device (``on_message`` called again for its id).
* **order violations** — on one device, a session's message shown with a sequence not above the highest
  already shown there (a repeat counts as a duplicate, not here).
* **receipts lost** — a message shown on a recipient's device whose ``offline_messages`` row for that
  recipient is still undelivered, or whose ``chat_messages.status`` is still ``sent``.
* **recovery** — for every (session, receiving device), the time from the end of the fault until the first
  message sent after the fault's end is shown there; the worst of them. Traffic keeps flowing in both
  directions, so every session probes itself; a pair that never shows a post-fault message is ``inf``.
* **longest silence** (reported, not asserted) — from the fault's start to that first post-fault message, the
  longest stretch in which a receiving device showed nothing new of a session: about the outage plus the
  recovery where nothing can take over, a heartbeat timeout or so where the client fails over to another edge.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Protocol

from switchboard.deployment import Deployment
from tests.faults.driver import Conversation, Device
from tests.faults.records import DeviceRecord

Note = Callable[[str, str], None]  # (kind, text): one offender, for the failure message


class Observed(Protocol):
    """What the verdict reads from the traffic (:class:`tests.faults.driver.Traffic`, or a fake in tests)."""

    conversations: list[Conversation]

    @property
    def devices(self) -> list[Device]: ...

    def pending(self) -> int: ...


@dataclasses.dataclass(frozen=True)
class Stored:
    session_id: str
    from_user_id: int
    status: str
    client_msg_id: str | None = None


@dataclasses.dataclass(frozen=True)
class DatabaseView:
    messages: dict[int, Stored]
    undelivered: set[tuple[int, int]]  # (user_id, message_id) rows of offline_messages not yet delivered

    @classmethod
    async def read(cls, system: Deployment) -> DatabaseView:
        messages = await system.query("SELECT id, session_id, from_user_id, status, client_msg_id FROM chat_messages")
        undelivered = await system.query("SELECT user_id, message_id FROM offline_messages WHERE NOT delivered")
        return cls({int(i): Stored(s, int(u), st, c) for i, s, u, st, c in messages},
                   {(int(u), int(m)) for u, m in undelivered})


@dataclasses.dataclass
class Verdict:
    scenario: str
    sent: int = 0
    acked: int = 0
    lost: int = 0
    own_missed: int = 0  # never shown on another device of its sender
    duplicates: int = 0
    order_violations: int = 0
    receipts_lost: int = 0
    recovery: float = math.inf
    silence: float = math.inf  # longest time a receiving device showed nothing of a session, from the fault on
    pending: int = 0  # still in some outbox after the settle period
    commit: str = ""  # the code the scenario ran (others commit while the suite runs)
    details: list[str] = dataclasses.field(default_factory=list)

    COLUMNS = ("scenario", "sent", "acknowledged", "lost", "own copies missed", "duplicates shown", "order violations",
               "receipts lost", "recovery s", "longest silence s", "unacked", "commit")

    def row(self) -> tuple[str, ...]:
        def seconds(value: float) -> str:
            return "∞" if math.isinf(value) else f"{value:.1f}"
        return (self.scenario, str(self.sent), str(self.acked), str(self.lost), str(self.own_missed),
                str(self.duplicates),
                str(self.order_violations), str(self.receipts_lost), seconds(self.recovery), seconds(self.silence),
                str(self.sent - self.acked),
                self.commit)

    @property
    def settled(self) -> bool:
        """Nothing more can arrive: every outbox empty, nothing owed to any device, every receipt recorded."""
        return self.pending == 0 and self.lost == 0 and self.own_missed == 0 and self.receipts_lost == 0


def judge(scenario: str, traffic: Observed, db: DatabaseView, window: Window, limit: int = 8) -> Verdict:
    """Compute the verdict; ``details`` names the first ``limit`` offenders of each kind."""
    verdict = Verdict(scenario, pending=traffic.pending())
    records = [device.record for device in traffic.devices]
    devices_of_session: dict[str, list[DeviceRecord]] = {}
    for conv in traffic.conversations:
        devices_of_session[conv.session_id] = [r for r in records
                                               if r.user_id in (conv.customer.record.user_id,
                                                                conv.agent.record.user_id)]
    shown_ids = {r.device_id: Counter(s.message_id for s in r.shown) for r in records}
    notes: Counter[str] = Counter()

    def detail(kind: str, text: str) -> None:
        notes[kind] += 1
        if notes[kind] <= limit:
            verdict.details.append(f"{kind}: {text}")

    last_of_session = {sid: max((m for m, s in db.messages.items() if s.session_id == sid), default=None)
                       for sid in devices_of_session}
    for record in records:
        verdict.sent += len(set(record.sent) | set(record.acked))
        verdict.acked += len(record.acked)
        for ack in record.acked.values():
            stored = db.messages.get(ack.message_id)
            if stored is None:
                verdict.lost += 1
                detail("lost", f"message {ack.message_id} acked to {record.device_id} is not in chat_messages")
                continue
            missing = [r for r in devices_of_session.get(stored.session_id, [])
                       if r is not record and not shown_ids[r.device_id][ack.message_id]]
            last = " (the session's last message)" if last_of_session.get(stored.session_id) == ack.message_id else ""
            for kind, devices in (("lost", [r for r in missing if r.user_id != record.user_id]),
                                  ("own copy", [r for r in missing if r.user_id == record.user_id])):
                if devices:
                    verdict.lost += kind == "lost"
                    verdict.own_missed += kind == "own copy"
                    detail(kind, f"message {ack.message_id} seq {ack.sequence} from {record.device_id} never shown "
                                 f"on {', '.join(r.device_id for r in devices)}{last}")
        _unacked(record, db, detail)
        verdict.duplicates += _duplicates(record, shown_ids[record.device_id], detail)
        verdict.order_violations += _order_violations(record, detail)
        verdict.receipts_lost += _receipts_lost(record, db, detail)
    verdict.recovery, verdict.silence = _recovery(devices_of_session, window)
    verdict.details += [f"{kind}: {count - limit} more" for kind, count in notes.items() if count > limit]
    return verdict


def _unacked(record: DeviceRecord, db: DatabaseView, detail: Note) -> None:
    """Not a failure by the issue's definition, but worth a line: refused for good, or stored and never
    acknowledged (the client lost track of an ack it should have got on a retry)."""
    stored = {s.client_msg_id: m for m, s in db.messages.items() if s.from_user_id == record.user_id}
    for client_msg_id in set(record.sent) - set(record.acked):
        fate = ("refused for good" if client_msg_id in record.failed
                else f"stored as message {stored[client_msg_id]}" if client_msg_id in stored else "not stored")
        detail("unacked", f"{client_msg_id} from {record.device_id}: {fate}")


def _duplicates(record: DeviceRecord, counts: Counter[int], detail: Note) -> int:
    repeats = {m: n for m, n in counts.items() if n > 1}
    for message_id, n in list(repeats.items())[:3]:
        detail("duplicate", f"message {message_id} shown {n}× on {record.device_id}")
    return sum(n - 1 for n in repeats.values())


def _order_violations(record: DeviceRecord, detail: Note) -> int:
    highest: dict[str, int] = {}
    seen: set[int] = set()
    violations = 0
    for shown in record.shown:
        if shown.message_id in seen:
            continue
        seen.add(shown.message_id)
        top = highest.get(shown.session_id, 0)
        if shown.sequence <= top:
            violations += 1
            detail("order", f"{record.device_id} showed seq {shown.sequence} after seq {top} in {shown.session_id}")
        highest[shown.session_id] = max(top, shown.sequence)
    return violations


def _receipts_lost(record: DeviceRecord, db: DatabaseView, detail: Note) -> int:
    lost = 0
    for message_id in {s.message_id for s in record.shown}:
        stored = db.messages.get(message_id)
        if stored is None or stored.from_user_id == record.user_id:
            continue  # the sender's own copy (another of its devices) carries no receipt
        if (record.user_id, message_id) in db.undelivered or stored.status == "sent":
            lost += 1
            detail("receipt", f"message {message_id} shown on {record.device_id} but status {stored.status!r}, "
                              f"offline row delivered={(record.user_id, message_id) not in db.undelivered}")
    return lost


@dataclasses.dataclass(frozen=True)
class Window:
    """When the fault began (the signal) and ended (component ready again, or SIGCONT)."""

    start: float
    end: float


def _recovery(devices_of_session: dict[str, list[DeviceRecord]], window: Window) -> tuple[float, float]:
    """(recovery, longest silence): per (session, receiving device), the wait from the fault's end for the
    first message sent after it, and the longest stretch from the fault's start to that message in which the
    device showed nothing new of the session; the worst of each."""
    records = [r for rs in devices_of_session.values() for r in rs]
    sent_at = {sent.text: sent.at for r in records for sent in r.sent.values()}
    recovery = silence = 0.0
    for session_id, members in devices_of_session.items():
        for receiver in members:
            expected = [s for r in members if r is not receiver
                        for s in r.sent.values() if s.session_id == session_id and s.at >= window.end]
            if not expected:
                continue  # nothing was sent to it after the fault (traffic had stopped): nothing to measure
            shown = [s for s in receiver.shown if s.session_id == session_id and s.text in sent_at]
            firsts = [s.at for s in shown if sent_at[s.text] >= window.end]
            if not firsts:
                return math.inf, math.inf
            back = min(firsts)
            recovery = max(recovery, back - window.end)
            moments = [window.start, *sorted(s.at for s in shown if window.start < s.at < back), back]
            silence = max(silence, *(b - a for a, b in itertools.pairwise(moments)))
    return recovery, silence


async def settle(scenario: str, traffic: Observed, system: Deployment, window: Window,
                 timeout: float) -> Verdict:
    """With traffic stopped, wait (bounded) until nothing more can change, then give the verdict."""
    deadline = time.monotonic() + timeout
    while True:
        verdict = judge(scenario, traffic, await DatabaseView.read(system), window)
        if verdict.settled or time.monotonic() > deadline:
            return verdict
        await asyncio.sleep(0.5)
