"""Session rules: one customer per session, at most one agent, assigned once unless an admin takes over."""

from __future__ import annotations

import dataclasses

from services.messaging.store import SessionRow, Store
from switchboard.errors import Forbidden, InvalidArgument, NotFound


async def assign_agent(store: Store, session_id: str, agent_id: int,
                       take_over: bool = False) -> tuple[SessionRow, SessionRow]:
    """Assign the agent under the session's row lock (a concurrent send sees either no agent or this one).
    Returns the session before and after. Assigning the same agent again is a no-op success; replacing another
    agent needs ``take_over`` (an admin: a supervisor taking a conversation over), and the replaced agent stops
    being a participant at once."""
    async with store.transaction() as cur:
        session = await store.lock_session(cur, session_id)
        if session is None:
            raise NotFound(f"session {session_id} not found")
        if agent_id == session.user_id:
            raise InvalidArgument("the session's customer cannot be its agent")
        if session.agent_id == agent_id:
            return session, session
        if session.agent_id and not take_over:
            raise Forbidden(f"session {session_id} already has another agent")  # which one is not the caller's business
        await store.set_agent(cur, session.id, agent_id)
        return session, dataclasses.replace(session, agent_id=agent_id)
