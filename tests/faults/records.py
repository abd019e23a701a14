"""What one device saw and did, as plain data the verdict can be computed from.

A device is one SDK client (one ``device_id``). It records every message it sent (before the SDK sees it),
every ack it got (``on_message_sent``: this also covers messages a restarted process re-sends from its
persisted outbox) and every message it showed (``on_message``). A client running in another process writes
the same facts as JSON lines, flushed at once, so a SIGKILL loses nothing that the callback had returned from.

Times are ``time.monotonic()``: one clock for every process on the machine (Linux CLOCK_MONOTONIC).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from pathlib import Path
from typing import IO, Any

from client import AsyncWebSocketClient


@dataclasses.dataclass(frozen=True)
class Sent:
    client_msg_id: str
    session_id: str
    text: str
    at: float


@dataclasses.dataclass(frozen=True)
class Acked:
    client_msg_id: str
    message_id: int
    sequence: int
    at: float


@dataclasses.dataclass(frozen=True)
class Shown:
    message_id: int
    session_id: str
    sequence: int
    text: str
    at: float


@dataclasses.dataclass
class DeviceRecord:
    user_id: int
    device_id: str
    sent: dict[str, Sent] = dataclasses.field(default_factory=dict)
    acked: dict[str, Acked] = dataclasses.field(default_factory=dict)
    shown: list[Shown] = dataclasses.field(default_factory=list)
    failed: set[str] = dataclasses.field(default_factory=set)  # refused for good (FORBIDDEN…): not lost
    sessions: list[str] = dataclasses.field(default_factory=list)
    notes: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # anything else, last of each kind

    def apply(self, kind: str, data: dict[str, Any]) -> None:
        """Add one fact (the in-process path and the journal replay share this)."""
        if kind == "sent":
            self.sent[data["client_msg_id"]] = Sent(**data)
        elif kind == "acked":
            self.acked.setdefault(data["client_msg_id"], Acked(**data))
        elif kind == "shown":
            self.shown.append(Shown(**data))
        elif kind == "failed":
            self.failed.add(data["client_msg_id"])
        elif kind == "session":
            self.sessions.append(data["session_id"])
        else:
            self.notes[kind] = data

    @classmethod
    def replay(cls, user_id: int, device_id: str, journal: Path) -> DeviceRecord:
        record = cls(user_id, device_id)
        if journal.exists():
            # Only complete lines: the last one may be being written (or was cut by SIGKILL mid-write).
            for line in journal.read_text().split("\n")[:-1]:
                with contextlib.suppress(json.JSONDecodeError):
                    entry = json.loads(line)
                    record.apply(entry["kind"], entry["data"])
        return record


class Recorder:
    """Keeps a :class:`DeviceRecord` up to date from a client's callbacks, and optionally journals it."""

    def __init__(self, record: DeviceRecord, journal: IO[str] | None = None) -> None:
        self.record, self._journal = record, journal

    def note(self, kind: str, **data: Any) -> None:
        self.record.apply(kind, data)
        if self._journal is not None:
            self._journal.write(json.dumps({"kind": kind, "data": data}) + "\n")
            self._journal.flush()

    def attach(self, client: AsyncWebSocketClient) -> None:
        client.on_message(self._shown)
        client.on_message_sent(self._acked)
        client.on_send_failed(lambda message, error: self.note("failed", client_msg_id=message["client_msg_id"]))

    def _shown(self, msg: dict[str, Any]) -> None:
        self.note("shown", message_id=int(msg["id"]), session_id=msg["session_id"],
                  sequence=int(msg["sequence_number"]), text=msg["text"], at=time.monotonic())

    def _acked(self, message: dict[str, Any], ack: dict[str, Any]) -> None:
        self.note("acked", client_msg_id=message["client_msg_id"], message_id=int(ack["message_id"]),
                  sequence=int(ack["sequence_number"]), at=time.monotonic())
