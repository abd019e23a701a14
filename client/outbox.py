"""The send queue: every message from ``send_message`` until the server acknowledges (or refuses) it.

Kept in memory in send order; with a ``path`` each entry is also written to SQLite before ``send_message``
returns, so a crash between "the user pressed send" and "the server stored it" loses nothing — the next
``connect()`` sends it with the same ``client_msg_id`` and the server's idempotency key absorbs the case where
it did arrive before the crash.

Thread-safe (one lock): ``send_message`` enqueues from any application thread while the SDK's event loop
takes entries off.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.errors import QueueFullError

log = logging.getLogger(__name__)


@dataclasses.dataclass(eq=False)
class OutboxEntry:
    """One unacknowledged message. ``future`` resolves to the server's ack (or a :class:`SendFailedError`)."""

    client_msg_id: str
    session_id: str
    message: str
    role: str = "user"
    message_type: str = "text"
    reply_to_message_id: int | None = None
    user_id: int | None = None
    created_at: float = dataclasses.field(default_factory=time.time)
    attempts: int = 0
    in_flight: bool = False
    not_before: float = 0.0  # loop time before which a retry must not start (backoff after UNAVAILABLE…)
    future: concurrent.futures.Future[dict[str, Any]] = dataclasses.field(
        default_factory=concurrent.futures.Future, repr=False)

    def payload(self) -> dict[str, Any]:
        """The ``send_message`` event body."""
        body: dict[str, Any] = {
            "session_id": self.session_id, "message": self.message, "role": self.role,
            "message_type": self.message_type, "client_msg_id": self.client_msg_id,
        }
        if self.reply_to_message_id is not None:
            body["reply_to_message_id"] = self.reply_to_message_id
        return body

    def to_dict(self) -> dict[str, Any]:
        """What ``on_send_failed`` / ``on_message_sent`` callbacks receive: plain data, no future."""
        return {**self.payload(), "user_id": self.user_id, "created_at": self.created_at,
                "attempts": self.attempts}


_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    client_msg_id TEXT NOT NULL UNIQUE,
    user_id INTEGER NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL
)
"""


class Outbox:
    """Ordered, bounded, optionally persistent. ``max_size`` is a callable so the application may change
    ``max_queue_size`` at any time."""

    def __init__(self, max_size: Callable[[], int], path: str | Path | None = None) -> None:
        self._max_size = max_size
        self._lock = threading.Lock()
        self._entries: dict[str, OutboxEntry] = {}
        self._db: sqlite3.Connection | None = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Autocommit; WAL with synchronous=NORMAL survives a process crash (not a power cut) at a
            # fraction of the fsync cost of FULL, which is the crash the spec asks about.
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)

    @property
    def persistent(self) -> bool:
        return self._db is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def add(self, entry: OutboxEntry) -> OutboxEntry:
        """Enqueue (and persist) or raise :class:`QueueFullError`; never drops an older entry."""
        with self._lock:
            limit = self._max_size()
            if len(self._entries) >= limit:
                raise QueueFullError(f"{len(self._entries)} messages wait for the server (max_queue_size={limit})")
            if self._db is not None:
                body = {k: v for k, v in entry.to_dict().items() if k not in ("user_id", "created_at", "attempts")}
                self._db.execute(
                    "INSERT OR IGNORE INTO outbox (client_msg_id, user_id, body, created_at) VALUES (?, ?, ?, ?)",
                    (entry.client_msg_id, entry.user_id, json.dumps(body), entry.created_at))
            self._entries[entry.client_msg_id] = entry
            return entry

    def load(self, user_id: int) -> int:
        """Take over the persisted entries of ``user_id`` (and those queued before any user was known)
        after the in-memory ones; return how many were added. The size limit is not applied: persisted
        messages were accepted once and must not be lost now."""
        if self._db is None:
            return 0
        with self._lock:
            self._db.execute("UPDATE outbox SET user_id = ? WHERE user_id IS NULL", (user_id,))
            rows = self._db.execute(
                "SELECT client_msg_id, body, created_at FROM outbox WHERE user_id = ? ORDER BY seq",
                (user_id,)).fetchall()
            loaded = 0
            restored: dict[str, OutboxEntry] = {}
            for client_msg_id, body, created_at in rows:
                if client_msg_id in self._entries:
                    restored[client_msg_id] = self._entries.pop(client_msg_id)
                    continue
                data = json.loads(body)
                restored[client_msg_id] = OutboxEntry(
                    client_msg_id=client_msg_id, session_id=data["session_id"], message=data["message"],
                    role=data.get("role", "user"), message_type=data.get("message_type", "text"),
                    reply_to_message_id=data.get("reply_to_message_id"), user_id=user_id, created_at=created_at)
                loaded += 1
            # Persisted order first (it is the order they were sent in), then anything memory-only.
            for entry in restored.values():
                entry.user_id = user_id
            restored.update(self._entries)
            self._entries = restored
            if loaded:
                log.info("outbox: restored %d unsent message(s) for user %s", loaded, user_id)
            return loaded

    def claim(self, user_id: int) -> None:
        """Attribute memory-only entries queued before ``connect()`` to the user now known."""
        with self._lock:
            for entry in self._entries.values():
                if entry.user_id is None:
                    entry.user_id = user_id

    def remove(self, client_msg_id: str) -> OutboxEntry | None:
        with self._lock:
            entry = self._entries.pop(client_msg_id, None)
            if self._db is not None:
                self._db.execute("DELETE FROM outbox WHERE client_msg_id = ?", (client_msg_id,))
            return entry

    def pending(self) -> list[OutboxEntry]:
        """A snapshot in send order."""
        with self._lock:
            return list(self._entries.values())

    def get(self, client_msg_id: str) -> OutboxEntry | None:
        with self._lock:
            return self._entries.get(client_msg_id)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
