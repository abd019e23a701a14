"""The socket.io contract: every client event once — its fields and their limits, who may send it, its rate class
and what it answers — and the events the server pushes. The edge validates, authorizes and rate-limits from this
table (services/connection/namespace.py), the SDK reads its limits from it, and docs/contract.md is generated
from it (``python -m switchboard.contract docs``)."""

from __future__ import annotations

import dataclasses
from typing import Any

from switchboard.contract import schema as s
from switchboard.contract.fields import Field, Int, Str
from switchboard.errors import InvalidArgument

ALL_ROLES = frozenset({"user", "agent", "admin"})
# Who serves customers: may take sessions, and hears the waiting queue's changes (``queue_updated``).
STAFF_ROLES = frozenset({"agent", "admin"})
# Room for fields a client adds that an event ignores (the spec's clients send user_id and token everywhere).
PACKET_ALLOWANCE = 16 * 1024
# Names socket.io keeps for itself (the JS client's reserved events, and python-socketio's lifecycle handlers):
# a client EVENT packet carrying one of them never reaches a handler.
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                             "removeListener", "message"})


@dataclasses.dataclass(frozen=True, slots=True)
class RateClass:
    """Events that share a budget. The numbers are the edge's settings (``SWITCHBOARD_<NAME>_RATE_PER_SECOND`` and
    ``SWITCHBOARD_<NAME>_BURST``); the class only names what the budget is for."""

    name: str
    doc: str


RATE_CLASSES = {c.name: c for c in (
    RateClass("send", "messages sent"),
    RateClass("receipt", "delivered and read receipts"),
    RateClass("read", "history pages (sync), device and session lists"),
    RateClass("session", "sessions opened, joined, transferred and closed"),
    RateClass("typing", "typing notices (relays are coalesced on top)"),
    RateClass("control", "register, heartbeat, kick, push token"),
)}


@dataclasses.dataclass(frozen=True, slots=True)
class Variant:
    """One shape of a payload, chosen when ``key`` is present (``None``: the fallback shape)."""

    key: str | None
    fields: tuple[Field, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Event:
    name: str
    doc: str
    reply: str
    variants: tuple[Variant, ...]
    roles: frozenset[str] = ALL_ROLES
    rate: str = "control"
    registered: bool = True  # False: allowed before ``register`` (only register itself)
    # Its reply can be large (a history page is up to ~2 MB): the edge bounds how many a socket has in flight.
    bulky: bool = False

    def parse(self, payload: Any) -> dict[str, Any]:
        """The payload's declared fields, converted and checked; unknown fields are ignored."""
        if payload is None:
            payload = {}
        elif not isinstance(payload, dict):
            raise InvalidArgument("the payload must be a JSON object")
        for variant in self.variants:
            if variant.key is None or variant.key in payload:
                return {f.name: f.parse(payload) for f in variant.fields}
        raise InvalidArgument(f"{self.name} needs one of: {', '.join(str(v.key) for v in self.variants)}")

    @property
    def fields(self) -> tuple[Field, ...]:
        seen: dict[str, Field] = {}
        for variant in self.variants:
            for f in variant.fields:
                seen.setdefault(f.name, f)
        return tuple(seen.values())

    def max_packet_bytes(self) -> int:
        """The largest socket.io packet accepted for this event: every field at its longest, JSON-escaped, and
        never less than :data:`PACKET_ALLOWANCE` (clients send fields the contract ignores, such as a token)."""
        body = max(sum(len(f.name) + 4 + f.max_json_bytes() for f in v.fields) for v in self.variants)
        return max(body + len(self.name) + 64, PACKET_ALLOWANCE)  # + packet type, ack id, brackets, quotes


def _one(*fields: Field) -> tuple[Variant, ...]:
    return (Variant(None, fields),)


_RECEIPT_BY_IDS = (Variant("message_ids", (s.MESSAGE_IDS, s.CLAIMED_USER_ID)),
                   Variant(None, (s.MESSAGE_ID, s.CLAIMED_USER_ID)))

EVENTS: dict[str, Event] = {e.name: e for e in (
    Event("register", "bind the socket to a user and a device; with a new token, refresh an expired identity",
          "{success, connection_id, socket_id, message, heartbeat_interval}; undelivered messages follow",
          _one(Int("user_id", required=True, minimum=1), s.TOKEN, s.CONNECTION_ID, s.DEVICE_ID, s.DEVICE_INFO),
          registered=False),
    Event("heartbeat", "feed the connection registry", "{success, timestamp}", _one(s.CONNECTION_ID)),
    Event("open_session", "the customer's open session, created if it has none", "{success, session_id, session}",
          _one(), roles=frozenset({"user"}), rate="session"),
    Event("join_session", "take a session as its agent; an admin takes it over from the assigned agent (the "
          "participants and the replaced agent get `session_updated`, reason `taken_over`) and then answers in it "
          "as its agent", "{success, session_id, session}",
          _one(s.SESSION_ID), roles=STAFF_ROLES, rate="session"),
    Event("send_message", "store and route a message of a session the sender takes part in (an admin as the "
          "session's agent, after taking it over: `from` is `agent`)",
          "{success, message_id, sequence_number, time, timestamp, session_id, client_msg_id, duplicate}",
          _one(s.SESSION_ID, s.TEXT, s.ROLE, s.MESSAGE_TYPE, s.REPLY_TO, s.CLIENT_MSG_ID,
               Int("from_user_id", minimum=1, doc="must equal the token's user"), s.CLAIMED_USER_ID, s.TOKEN),
          roles=ALL_ROLES, rate="send"),
    Event("message_delivered", "receipt: shown on a device of the recipient", "{success, updated}",
          _RECEIPT_BY_IDS, rate="receipt"),
    Event("message_read", "receipt: read by the recipient (ids, or a whole session up to a sequence)",
          "{success, updated}",
          (Variant("up_to_sequence", (s.SESSION_ID, s.UP_TO_SEQUENCE, s.CLAIMED_USER_ID)), *_RECEIPT_BY_IDS),
          rate="receipt"),
    Event("sync", "a page of a session's history after a sequence number", "{success, messages, has_more}",
          _one(s.SESSION_ID, s.AFTER_SEQUENCE, s.SYNC_LIMIT), rate="read", bulky=True),
    Event("session_presence", "whether the session's other participant is online now (a page that loads asks "
          "once, then follows `presence`)", "{success, session_id, participants: [{user_id, online, last_seen}]}",
          _one(s.SESSION_ID), rate="read"),
    Event("typing", "tell the session's other participants (coalesced)", "{success}",
          _one(s.SESSION_ID, s.IS_TYPING), rate="typing"),
    Event("list_devices", "the caller's own devices", "{success, devices}", _one(), rate="read", bulky=True),
    Event("kick_device", "close every socket of one of the caller's own devices", "{success, connections_closed}",
          _one(s.DEVICE_ID, s.REASON)),
    Event("update_push_token", "the push token of this socket's device", "{success}", _one(s.PUSH_TOKEN)),
    Event("list_sessions", "a page of sessions, oldest first: `mine` (a customer's own; an agent's or admin's "
          "assigned), `waiting` (open with no agent: agents, admins), `all` (admins); a scope the role may not "
          "list is `FORBIDDEN`", "{success, sessions, has_more, next_cursor}",
          _one(s.SESSION_SCOPE, s.SESSION_STATUS, s.SESSIONS_CURSOR, s.SESSIONS_LIMIT), rate="read"),
    Event("transfer_session", "hand a session to another agent (its agent, or an admin); the participants and "
          "the agent transferred away from get `session_updated`, reason `transferred`",
          "{success, session_id, session}", _one(s.SESSION_ID, s.AGENT_ID),
          roles=STAFF_ROLES, rate="session"),
    Event("close_session", "close a session (its customer, its agent, or an admin): sends are refused from then "
          "on, the customer's next `open_session` opens a new one; the participants get `session_updated`, "
          "reason `closed`; closing a closed session is a no-op", "{success, session_id, session}",
          _one(s.SESSION_ID), rate="session"),
)}


@dataclasses.dataclass(frozen=True, slots=True)
class Push:
    """An event the server emits."""

    name: str
    fields: str
    doc: str


PUSHES: tuple[Push, ...] = (
    Push("connected", "{success, socket_id}", "after the socket.io connect"),
    Push("new_message", "{id, session_id, from, from_user_id, to_user_id, text, time, timestamp, avatar, "
         "message_type, reply_to_message_id, status, offline, sequence_number, client_msg_id}",
         "to every connected device of every participant, except the sending socket"),
    Push("message_status", "{message_id, session_id, status, timestamp}", "to every device of the sender"),
    Push("session_updated", "{session_id, user_id, agent_id, status, last_sequence, reason}",
         "to every device of the participants (and of an agent who just stopped being one); reason "
         "`agent_joined`, `taken_over`, `transferred` or `closed`"),
    Push("typing", "{session_id, user_id, is_typing}", "to the other participants, coalesced"),
    Push("presence", "{user_id, online, last_seen, session_id}", "the other participant went online or offline"),
    Push("kicked", "{device_id, reason}", "then the connection is closed"),
    Push("queue_updated", "{session_id, user_id, status, last_sequence, reason}",
         "the waiting queue changed, to every agent and admin socket on every edge (never to customers): reason "
         "`waiting` (a customer opened a session and no agent has it), `taken` (an agent or admin was assigned "
         "a waiting session) or `closed` (a waiting session was closed). Which agent took it is not said. A "
         "console lists `waiting` once per (re)connect and applies these from then on"),
)

# The largest legal packet a client may send: the websocket message limit and engine.io's buffer limit.
MAX_PACKET_BYTES = max(e.max_packet_bytes() for e in EVENTS.values())


def field_limit(event: str, name: str) -> Field:
    """A field's declaration (the SDK reads its limits from here)."""
    for f in EVENTS[event].fields:
        if f.name == name:
            return f
    raise KeyError(f"{event} has no field {name}")


__all__ = ["ALL_ROLES", "EVENTS", "MAX_PACKET_BYTES", "PUSHES", "RATE_CLASSES", "RESERVED_EVENTS", "STAFF_ROLES",
           "Event", "Str", "field_limit"]
