"""Session rules: one customer per session, at most one agent, assigned once unless an admin takes over; the
session's customer, its agent and admins may close it; its agent and admins may hand it to another agent.

Who acts is asserted by the caller (the edge: from a verified JWT) as an id and a role. The role of anyone
else is the devices service's to say (it binds ids to roles at first registration, and its tables are not ours):
a transfer's target is asked of it, so no caller, edge or backend, can hand a session to a customer."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import aiomysql

from services.messaging.store import SessionRow, Store
from switchboard.contract.events import STAFF_ROLES  # whom a session may be handed to
from switchboard.errors import Forbidden, InvalidArgument, NotFound

# The role a user id is bound to ("" when it never registered): the devices service's GetUserRole.
RoleOf = Callable[[int], Awaitable[str]]

# The lists each role may ask for (list_sessions' ``scope``).
SCOPES = {"user": frozenset({"mine"}), "agent": frozenset({"mine", "waiting"}),
          "admin": frozenset({"mine", "waiting", "all"})}


def _acting_on(session: SessionRow | None, session_id: str, actor_id: int, actor_role: str) -> SessionRow:
    """The session, if the actor may act on it: an admin on any; the customer and the agent on their own, by
    seat (a customer is never taken for the agent). Not theirs is answered as if it did not exist."""
    if session is None or (actor_role != "admin" and actor_id != (
            session.user_id if actor_role == "user" else session.agent_id)):
        raise NotFound(f"session {session_id} not found")
    return session


async def assign_agent(store: Store, session_id: str, agent_id: int,
                       take_over: bool = False) -> tuple[SessionRow, SessionRow]:
    """Assign the agent under the session's row lock (a concurrent send sees either no agent or this one).
    Returns the session before and after. Assigning the same agent again is a no-op success; replacing another
    agent needs ``take_over`` (an admin: a supervisor taking a conversation over), and the replaced agent stops
    being a participant at once. A closed session is refused: it is over, and taking it would put it back in an
    agent's list as if it could still be answered."""
    async with store.transaction() as cur:
        session = await store.lock_session(cur, session_id)
        if session is None:
            raise NotFound(f"session {session_id} not found")
        _require_open(session)
        return session, await _set_agent(store, cur, session, agent_id, replace=take_over)


async def transfer_session(store: Store, session_id: str, actor_id: int, actor_role: str,
                           agent_id: int, role_of: RoleOf) -> tuple[SessionRow, SessionRow]:
    """Hand an open session to ``agent_id``, under its row lock (a send in flight is sequenced before or after
    the change, never with a stale agent). Returns the session before and after; to the same agent, a no-op.
    The target's role is asked before the lock is taken: no RPC is made while a session row is locked."""
    if actor_role == "user":
        raise Forbidden("customers cannot transfer sessions")
    if await role_of(agent_id) not in STAFF_ROLES:  # an id that never registered could never answer either
        raise InvalidArgument(f"user {agent_id} is not an agent; a session is transferred to an agent")
    async with store.transaction() as cur:
        session = _acting_on(await store.lock_session(cur, session_id), session_id, actor_id, actor_role)
        _require_open(session)
        return session, await _set_agent(store, cur, session, agent_id, replace=True)


def queue_change(before: SessionRow | None, after: SessionRow) -> str | None:
    """How a change moved a session into or out of the waiting queue (open, no agent): ``waiting`` (it entered:
    ``before`` is None for a session just created), ``taken`` (an agent or admin got it), ``closed``; None when
    the queue is as it was. Agents and admins are told (``queue_updated``), so no console needs to poll."""
    was, now = before is not None and _waiting(before), _waiting(after)
    if now and not was:
        return "waiting"
    if was and not now:
        return "closed" if after.status == "closed" else "taken"
    return None


def _waiting(session: SessionRow) -> bool:
    return session.status == "open" and not session.agent_id


def _require_open(session: SessionRow) -> None:
    if session.status != "open":
        raise Forbidden(f"session {session.session_id} is closed")


async def _set_agent(store: Store, cur: aiomysql.Cursor, session: SessionRow, agent_id: int,
                     replace: bool) -> SessionRow:
    """The locked session with ``agent_id`` as its agent; replacing an assigned agent only when ``replace``."""
    if agent_id == session.user_id:
        raise InvalidArgument("the session's customer cannot be its agent")
    if session.agent_id == agent_id:
        return session
    if session.agent_id and not replace:  # which agent is not the caller's business
        raise Forbidden(f"session {session.session_id} already has another agent")
    await store.set_agent(cur, session.id, agent_id)
    return dataclasses.replace(session, agent_id=agent_id)


async def close_session(store: Store, session_id: str, actor_id: int,
                        actor_role: str) -> tuple[SessionRow, SessionRow]:
    """Close the session under its row lock: a send that locks it afterwards is refused (the writer's
    ``check_sender``), and the customer's next ``OpenSession`` creates a new one. Returns the session before
    and after; closing a closed session is a no-op."""
    async with store.transaction() as cur:
        session = _acting_on(await store.lock_session(cur, session_id), session_id, actor_id, actor_role)
        if session.status == "closed":
            return session, session
        await store.set_status(cur, session.id, "closed")
        return session, dataclasses.replace(session, status="closed")


def list_filter(actor_id: int, actor_role: str, scope: str, status: str) -> tuple[str | None, int | None, str]:
    """The (column, owner, status) a list filters on (:meth:`Store.list_sessions`); a scope the role may not
    ask for is refused. The waiting queue is open sessions with no agent, whatever ``status`` says."""
    if scope not in SCOPES[actor_role]:
        raise Forbidden(f"role {actor_role} cannot list {scope} sessions")
    if scope == "all":
        return None, None, status
    if scope == "waiting":
        return "agent_id", None, "open"
    return ("user_id" if actor_role == "user" else "agent_id"), actor_id, status
