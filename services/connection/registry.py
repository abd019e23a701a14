"""This node's sockets: who they are and which device they belong to. In memory only; the durable registry
is the devices service."""

from __future__ import annotations

import dataclasses
import math
import time
from collections import defaultdict
from typing import Any

from services.connection.limits import Bucket
from switchboard.auth import Identity
from switchboard.errors import NotRegistered


@dataclasses.dataclass(slots=True, eq=False)
class Socket:
    sid: str
    ip: str
    user_agent: str
    connected_at: float = dataclasses.field(default_factory=time.monotonic)
    # Set by a token in the connect ``auth`` payload; ``register`` may bring it instead (and a fresh one later).
    identity: Identity | None = None
    # When the identity's token expires (time.monotonic()); past it every event but ``register`` is refused.
    expires_at: float = math.inf
    connection_id: str = ""
    device_id: str = ""
    last_beat: float = dataclasses.field(default_factory=time.monotonic)
    # Rate limit buckets by rate class (services.connection.limits), made on first use.
    buckets: dict[str, Bucket] = dataclasses.field(default_factory=dict)
    inflight: int = 0  # events with large replies being handled (each holds its reply: bounded per socket)
    # While the socket's backlog is being pushed, live ``new_message`` events wait here (services.connection.
    # offline), so the app never sees a live message ahead of the older ones it missed. None: not holding.
    held: list[dict[str, Any]] | None = None

    @property
    def registered(self) -> bool:
        return bool(self.connection_id)


class Registry:
    def __init__(self) -> None:
        self._sockets: dict[str, Socket] = {}
        self._by_user: defaultdict[int, set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._sockets)

    def add(self, sock: Socket) -> None:
        self._sockets[sock.sid] = sock

    def get(self, sid: str) -> Socket | None:
        return self._sockets.get(sid)

    def require_registered(self, sid: str) -> Socket:
        sock = self._sockets.get(sid)
        if sock is None or not sock.registered:
            raise NotRegistered()
        return sock

    def bind(self, sock: Socket, identity: Identity, connection_id: str, device_id: str) -> bool:
        """Mark the socket registered. Returns True when it is the user's first socket on this node."""
        sock.identity, sock.connection_id, sock.device_id = identity, connection_id, device_id
        sids = self._by_user[identity.user_id]
        sids.add(sock.sid)
        return len(sids) == 1

    def remove(self, sid: str) -> tuple[Socket | None, bool]:
        """Forget a socket. Returns it and whether it was its user's last socket on this node."""
        sock = self._sockets.pop(sid, None)
        if sock is None or not sock.registered or sock.identity is None:
            return sock, False
        sids = self._by_user.get(sock.identity.user_id)
        if sids is None:
            return sock, False
        sids.discard(sid)
        if not sids:
            del self._by_user[sock.identity.user_id]
            return sock, True
        return sock, False

    def sockets(self) -> list[Socket]:
        return list(self._sockets.values())

    def user_sockets(self, user_id: int) -> list[Socket]:
        return [self._sockets[sid] for sid in self._by_user.get(user_id, ()) if sid in self._sockets]

    def registered_count(self) -> int:
        return sum(len(s) for s in self._by_user.values())

    def silent_since(self, deadline: float) -> list[Socket]:
        """Sockets whose last heartbeat (or connect) is older than ``deadline`` (monotonic seconds)."""
        return [s for s in self._sockets.values() if s.last_beat < deadline]
