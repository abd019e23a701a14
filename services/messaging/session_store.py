"""Sessions' rows and the SQL of listing and closing them: a base of :class:`~services.messaging.store.Store`,
kept apart so store.py stays about sending, receipts and delivery."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import aiomysql

from services.messaging.retry_store import Database

SESSION_COLUMNS = "id, session_id, user_id, agent_id, status, last_sequence, UNIX_TIMESTAMP(created_at)"
# The columns a list may filter on (interpolated into the statement, so never a caller's string).
OWNER_COLUMNS = frozenset({"user_id", "agent_id"})


def participants(user_id: int, agent_id: int | None) -> tuple[int, ...]:
    """Who takes part in a session: the customer, then the agent once one is assigned."""
    return (user_id, agent_id) if agent_id else (user_id,)


@dataclasses.dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    session_id: str
    user_id: int
    agent_id: int | None
    status: str
    last_sequence: int
    created_at: float

    @property
    def participants(self) -> tuple[int, ...]:
        return participants(self.user_id, self.agent_id)


def session_row(row: Sequence[Any]) -> SessionRow:
    return SessionRow(row[0], row[1], row[2], row[3] or None, row[4], row[5], float(row[6]))


class SessionStatements(Database):
    @staticmethod
    async def set_status(cur: aiomysql.Cursor, session_pk: int, status: str) -> None:
        await cur.execute("UPDATE chat_sessions SET status = %s WHERE id = %s", (status, session_pk))

    async def list_sessions(self, column: str | None, owner: int | None, status: str, after: int,
                            limit: int) -> list[SessionRow]:
        """Sessions with ``column`` = ``owner`` (``IS NULL`` when owner is None: the waiting queue; every
        session when column is None), of ``status`` if given, after the cursor ``after`` (the primary key),
        oldest first. The (user_id, status) and (agent_id, status) indexes end in the primary key, so a list of
        one status is a range scan in cursor order."""
        where: list[str] = ["id > %s"]
        args: list[Any] = [after]
        if column is not None:
            assert column in OWNER_COLUMNS, column
            where.append(f"{column} IS NULL" if owner is None else f"{column} = %s")
            args += [] if owner is None else [owner]
        if status:
            where.append("status = %s")
            args.append(status)
        rows = await self._execute(
            f"SELECT {SESSION_COLUMNS} FROM chat_sessions WHERE {' AND '.join(where)} ORDER BY id LIMIT %s",
            (*args, limit))
        return [session_row(row) for row in rows]
