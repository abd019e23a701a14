"""Typing notices, coalesced. A client may send ``typing`` on every keystroke (10,000 of them reached the other
side as 9,471 events); what the other side needs is the current state, promptly. Per (socket, session) at most
one relay goes out per interval: the first at once, and the last state noted within the interval at its end if
it differs from what was relayed. So N notices in T seconds cost at most T / interval + 1 relays, and a final
"stopped typing" is never lost."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from nats.aio.client import Client
from prometheus_client import Counter

from services.connection.registry import Socket
from switchboard.nats import Subjects, encode

RELAYED = Counter("switchboard_edge_typing_relayed_total", "Typing notices relayed to other participants")
COALESCED = Counter("switchboard_edge_typing_coalesced_total", "Typing notices folded into a later relay")

# Sessions with typing state per socket; a socket typing in more is a bot, and its oldest state is dropped.
_MAX_SESSIONS_PER_SOCKET = 16


class _State:
    __slots__ = ("last_at", "pending", "relayed", "timer", "wanted")

    def __init__(self) -> None:
        self.relayed: bool | None = None  # the state the others last heard
        self.wanted = False  # the latest state the client sent
        self.last_at = -1e9
        self.pending: tuple[int, ...] = ()
        self.timer: asyncio.TimerHandle | None = None


class TypingRelay:
    def __init__(self, nc: Client, subjects: Subjects, interval: float) -> None:
        self._nc, self._subjects, self._interval = nc, subjects, interval
        self._states: dict[str, dict[str, _State]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def note(self, sock: Socket, session_id: str, is_typing: bool, others: tuple[int, ...]) -> None:
        sessions = self._states.setdefault(sock.sid, {})
        state = sessions.get(session_id)
        if state is None:
            if len(sessions) >= _MAX_SESSIONS_PER_SOCKET:
                self._drop(sessions.pop(next(iter(sessions))))
            state = sessions[session_id] = _State()
        state.wanted, state.pending = is_typing, others
        wait = state.last_at + self._interval - time.monotonic()
        if wait <= 0:
            self._relay(sock, session_id, state)
        elif state.timer is None:
            COALESCED.inc()
            state.timer = asyncio.get_running_loop().call_later(wait, self._due, sock, session_id, state)
        else:
            COALESCED.inc()

    def forget(self, sid: str) -> None:
        """The socket closed. Its last state is not relayed: presence tells the others it went away."""
        for state in self._states.pop(sid, {}).values():
            self._drop(state)

    @staticmethod
    def _drop(state: _State) -> None:
        if state.timer is not None:
            state.timer.cancel()

    def _due(self, sock: Socket, session_id: str, state: _State) -> None:
        state.timer = None
        if state.wanted != state.relayed:
            self._relay(sock, session_id, state)

    def _relay(self, sock: Socket, session_id: str, state: _State) -> None:
        assert sock.identity is not None
        state.relayed, state.last_at = state.wanted, time.monotonic()
        payload = encode("typing", {"session_id": session_id, "user_id": sock.identity.user_id,
                                    "is_typing": state.wanted})
        for other in state.pending:
            task = asyncio.ensure_future(self._nc.publish(self._subjects.user_typing(other), payload))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        RELAYED.inc()
