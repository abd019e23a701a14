"""What the notifications service reads of messaging's tables (same database, read-only): the message a push
shows, whether it was read, and the badge.

Read, not asked over gRPC, because these are the system of record the receipts write (``chat_messages.status``)
and a push needs them at the moment it is sent; the notifications service never writes them.

- *Seen* means read: ``chat_messages.status = 'read'``, set by the recipient's read receipt on any device.
  Delivered is not enough: ``offline_messages.delivered`` is per user, so a laptop that showed the message
  unread on an empty desk would silence the phone in the pocket.
- *Unread* (the badge) counts the user's ``offline_messages`` rows (one per message the user received) whose
  message is not read: the same per-message receipts, through the per-user index. Rows that the retention
  clean-up removed (acknowledged ones, after ``SWITCHBOARD_DELIVERED_RETENTION_SECONDS``) no longer count."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import aiomysql

from switchboard.db import placeholders


@dataclasses.dataclass(frozen=True, slots=True)
class Message:
    id: int
    session_id: str
    sender_role: str  # user | agent | system
    text: str
    message_type: str
    read: bool


class MessageReader:
    def __init__(self, pool: aiomysql.Pool) -> None:
        self._pool = pool

    async def messages(self, ids: Iterable[int]) -> dict[int, Message]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT id, session_id, sender_role, message, message_type, status = 'read' FROM chat_messages"
                f" WHERE id IN ({placeholders(len(wanted))})", wanted)
            return {i: Message(i, session, role, text, kind, bool(read))
                    for i, session, role, text, kind, read in await cur.fetchall()}

    async def unread(self, user_id: int) -> int:
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT COUNT(*) FROM offline_messages o JOIN chat_messages m ON m.id = o.message_id"
                " WHERE o.user_id = %s AND m.status <> 'read'", (user_id,))
            (count,) = await cur.fetchone()
            return int(count)
