"""``switchboard sessions list`` and ``sessions show``, through messaging's ListSessions, GetSession and
SyncHistory (the operator certificate's, switchboard.contract.rpcs).

ListSessions asks who is listing (the edge passes the socket's user): the operator lists as an admin for the
``all`` and ``waiting`` scopes, which do not use the actor's id, and as the agent or customer named for theirs."""

from __future__ import annotations

from protos import messaging_pb2
from switchboard.ops.output import Progress, table
from switchboard.ops.sources import Sources

PAGE = 100  # sessions per ListSessions call
ANY_ADMIN = 1  # the actor id ListSessions requires; scopes all and waiting do not read it


def _scope(agent: int | None, user: int | None, waiting: bool) -> tuple[int, str, str]:
    """(actor_id, actor_role, scope) of a listing."""
    if agent:
        return agent, "agent", "mine"
    if user:
        return user, "user", "mine"
    return ANY_ADMIN, "admin", "waiting" if waiting else "all"


async def list_sessions(src: Sources, status: str = "", agent: int | None = None, user: int | None = None,
                        waiting: bool = False, limit: int = 1000) -> str:
    actor_id, actor_role, scope = _scope(agent, user, waiting)
    messaging = src.messaging()
    found: list[messaging_pb2.Session] = []
    progress = Progress("sessions read", total=None)
    after, more = 0, True
    while more and len(found) < limit:
        page = await messaging.ListSessions(messaging_pb2.ListSessionsRequest(
            actor_id=actor_id, actor_role=actor_role, scope=scope, status=status, after=after,
            limit=min(PAGE, limit - len(found))))
        found.extend(page.sessions)
        progress.step(len(page.sessions))
        after, more = page.next_cursor, page.has_more
    progress.finish()
    rows = [(s.session_id, s.user_id, s.agent_id or None, s.status, s.last_sequence, s.created_at) for s in found]
    note = f"\n(first {limit:,}; --limit for more)" if more else ""
    return table(("session", "customer", "agent", "status", "messages", "created"), rows) + note


async def show_session(src: Sources, session_id: str, messages: int = 20) -> str:
    messaging = src.messaging()
    session = (await messaging.GetSession(messaging_pb2.GetSessionRequest(session_id=session_id))).session
    head = table(("session", "customer", "agent", "status", "messages", "created"),
                 [(session.session_id, session.user_id, session.agent_id or None, session.status,
                   session.last_sequence, session.created_at)])
    if not messages or not session.last_sequence:
        return head
    page = await messaging.SyncHistory(messaging_pb2.SyncHistoryRequest(
        user_id=session.user_id, session_id=session_id,
        after_sequence=max(0, session.last_sequence - messages), limit=messages))
    history = table(("seq", "time", "from", "status", "text"),
                    [(m.sequence_number, m.time, f"{getattr(m, 'from')} {m.from_user_id or ''}".strip(),
                      m.status, _short(m.text)) for m in page.messages])
    return f"{head}\n\nlast {len(page.messages)} message(s):\n{history}"


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
