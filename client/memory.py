"""What the app was shown, remembered across app restarts: the ids passed to ``on_message`` (bounded) and each
session's watermark (the last sequence handled in order).

The server delivers at least once, and after a restart it pushes again whatever was not acknowledged; the app
must still show each message once and each session in order. So, with ``queue_path``, the tracker's memory is
kept in the outbox's SQLite file (tables ``shown_messages`` and ``session_watermarks``) and loaded at
``connect()`` for that user: re-pushed messages are recognised, and a live push that overtakes the backlog is
held back until the backlog arrives. Without ``queue_path`` this is a no-op and memory lasts as long as the
client object.

A message is recorded once its ``on_message`` callbacks returned (the moment its delivered receipt is due), not
when it is queued for them: a crash in between shows it again after the restart rather than never. Writes
are batched — one transaction per event-loop turn, WAL, ``synchronous=NORMAL`` — and always made before the
receipts of the same messages go out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS shown_messages (
        n INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        UNIQUE (user_id, message_id)
    )""",
    """CREATE TABLE IF NOT EXISTS session_watermarks (
        user_id INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        last_sequence INTEGER NOT NULL,
        PRIMARY KEY (user_id, session_id)
    )""",
)


class DisplayMemory:
    """Persisted dedup ids and watermarks of one user. Used on the SDK's loop only (and at ``close``)."""

    def __init__(self, path: str | Path | None, max_ids: int = 20_000) -> None:
        self.max_ids = max_ids
        self.user_id: int | None = None
        self._ids: list[Any] = []
        self._marks: dict[str, int] = {}
        self._flush_soon: asyncio.Handle | None = None
        self._since_prune = 0
        self._db: sqlite3.Connection | None = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Its own connection to the outbox's file: the outbox writes from application threads, this from
            # the loop; SQLite serialises the two (busy_timeout) and WAL keeps readers out of the way.
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=5.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self._db.execute(statement)

    def load(self, user_id: int) -> tuple[list[Any], dict[str, int]]:
        """The remembered ids (oldest first) and watermarks of ``user_id``, who is recorded for from now on."""
        self.flush()
        self.user_id = user_id
        if self._db is None:
            return [], {}
        rows = self._db.execute(
            "SELECT message_id FROM shown_messages WHERE user_id = ? ORDER BY n DESC LIMIT ?",
            (user_id, self.max_ids)).fetchall()
        marks = self._db.execute(
            "SELECT session_id, last_sequence FROM session_watermarks WHERE user_id = ?", (user_id,)).fetchall()
        if rows or marks:
            log.info("restored %d shown message id(s) and %d session watermark(s) for user %s",
                     len(rows), len(marks), user_id)
        return [json.loads(r[0]) for r in reversed(rows)], dict(marks)

    def record(self, message_id: Any, session_id: Any, sequence: Any) -> None:
        """Remember that the app has this message (and the session is handled up to ``sequence``); written
        at the end of this loop turn, with whatever else was recorded in it."""
        if self._db is None or self.user_id is None:
            return
        if message_id is not None:
            self._ids.append(message_id)
        if isinstance(session_id, str) and isinstance(sequence, int):
            self._marks[session_id] = max(sequence, self._marks.get(session_id, sequence))
        if self._flush_soon is None:
            self._flush_soon = asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Write what was recorded, in one transaction."""
        if self._flush_soon is not None:
            self._flush_soon.cancel()
            self._flush_soon = None
        if self._db is None or not (self._ids or self._marks):
            return
        ids, marks, self._ids, self._marks = self._ids, self._marks, [], {}
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR IGNORE INTO shown_messages (user_id, message_id) VALUES (?, ?)",
                [(self.user_id, json.dumps(mid)) for mid in ids])
            self._db.executemany(
                "INSERT INTO session_watermarks (user_id, session_id, last_sequence) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id, session_id) DO UPDATE SET "
                "last_sequence = MAX(last_sequence, excluded.last_sequence)",
                [(self.user_id, sid, seq) for sid, seq in marks.items()])
            self._since_prune += len(ids)
            if self._since_prune > self.max_ids // 10:
                self._since_prune = 0
                self._db.execute(
                    "DELETE FROM shown_messages WHERE user_id = ? AND n NOT IN "
                    "(SELECT n FROM shown_messages WHERE user_id = ? ORDER BY n DESC LIMIT ?)",
                    (self.user_id, self.user_id, self.max_ids))

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None
