"""Request helpers: one event out, the server's reply back, a refusal raised as a :class:`RequestError`.

Replies that name a session's last sequence also set the tracker's baseline, so the incoming path knows where
"new" starts for a session the application just opened or joined.
"""

from __future__ import annotations

from typing import Any

from client.config import ClientConfig
from client.connection import Connection
from client.errors import error_from_reply
from client.tracker import SequenceTracker
from switchboard.contract.schema import HISTORY_MAX_LIMIT as SYNC_MAX


def receipt_body(message_id: Any, message_ids: list[Any] | None, user_id: int | None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``message_delivered``/``message_read`` body; shared with the incoming path's automatic receipts."""
    body: dict[str, Any] = {"user_id": user_id, **(extra or {})}
    if message_ids is not None:
        body["message_ids"] = list(message_ids)
    elif message_id is not None:
        body["message_id"] = message_id
    return body


class Rpc:
    """The request helpers of the faces, over whatever link is current."""

    def __init__(self, config: ClientConfig, connection: Connection, tracker: SequenceTracker) -> None:
        self.config = config
        self._connection = connection
        self._tracker = tracker

    async def request(self, event: str, data: Any, timeout: float | None = None) -> dict[str, Any]:
        """Send one event and return the successful reply; waits up to ``timeout`` for a connection."""
        timeout = self.config.request_timeout if timeout is None else timeout
        link = await self._connection.wait_link(timeout)
        reply = await link.call(event, data, timeout)
        if not (isinstance(reply, dict) and reply.get("success")):
            raise error_from_reply(reply)
        return reply

    async def open_session(self, timeout: float | None = None) -> dict[str, Any]:
        reply = await self.request("open_session", {}, timeout)
        self._baseline_from(reply)
        return reply

    async def join_session(self, session_id: str, timeout: float | None = None) -> dict[str, Any]:
        reply = await self.request("join_session", {"session_id": session_id}, timeout)
        self._baseline_from(reply)
        return reply

    async def list_sessions(self, scope: str = "mine", status: str | None = None, cursor: int = 0,
                            limit: int | None = None, timeout: float | None = None) -> dict[str, Any]:
        """A page of sessions (``mine``, ``waiting``, ``all``): ``{sessions, has_more, next_cursor}``; pass
        ``next_cursor`` back as ``cursor`` for the next page. Omitted fields take the contract's defaults."""
        body: dict[str, Any] = {"scope": scope, "cursor": cursor}
        body.update({k: v for k, v in (("status", status), ("limit", limit)) if v is not None})
        return await self.request("list_sessions", body, timeout)

    async def transfer_session(self, session_id: str, agent_id: int, timeout: float | None = None) -> dict[str, Any]:
        return await self.request("transfer_session", {"session_id": session_id, "agent_id": agent_id}, timeout)

    async def close_session(self, session_id: str, timeout: float | None = None) -> dict[str, Any]:
        return await self.request("close_session", {"session_id": session_id}, timeout)

    def _baseline_from(self, reply: dict[str, Any]) -> None:
        """A reply that names the session's last sequence tells where "new" starts for that session."""
        session: dict[str, Any] = reply["session"] if isinstance(reply.get("session"), dict) else reply
        last = session.get("last_sequence")
        if reply.get("session_id") and isinstance(last, int):
            self._tracker.baseline(reply["session_id"], last)

    async def sync(self, session_id: str, after_sequence: int | None = None, limit: int = 100,
                   timeout: float | None = None) -> dict[str, Any]:
        """Raw ``sync``: the application's history fetch. Does not touch dedup or ordering state."""
        if after_sequence is None:
            after_sequence = 0
        return await self.request("sync", {"session_id": session_id, "after_sequence": after_sequence,
                                           "limit": min(limit, SYNC_MAX)}, timeout)

    async def send_delivered(self, message_id: Any = None, user_id: int | None = None,
                             message_ids: list[Any] | None = None) -> dict[str, Any]:
        return await self.request("message_delivered",
                                  receipt_body(message_id, message_ids, user_id or self._connection.user_id))

    async def send_read(self, message_id: Any = None, user_id: int | None = None,
                        message_ids: list[Any] | None = None, session_id: str | None = None,
                        up_to_sequence: int | None = None) -> dict[str, Any]:
        extra = ({"session_id": session_id, "up_to_sequence": up_to_sequence}
                 if session_id is not None and up_to_sequence is not None else None)
        return await self.request("message_read",
                                  receipt_body(message_id, message_ids, user_id or self._connection.user_id, extra))
