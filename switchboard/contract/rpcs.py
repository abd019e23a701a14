"""The gRPC contract's request checks: each RPC's fields with their limits, from the same field declarations the
socket.io events use (renamed where the proto names them differently), so a limit is written once. The servicers
check requests with :meth:`Rpc.check`; docs/contract.md lists them.

Each RPC also declares which kinds of caller may call it (:attr:`Rpc.callers`), read by the servers' authorization
check (:mod:`switchboard.callers`): the registry and batch RPCs are the edges' alone; the public API is open to the
edges and to the outside backends whose entry lists it. Callers assert user ids; no role applies and no rate limit
(the edge limits the sockets that cause the calls)."""

from __future__ import annotations

import dataclasses
from typing import Any

from switchboard.contract import schema as s
from switchboard.contract.events import ALL_ROLES
from switchboard.contract.fields import Bool, Field, IdList, Int, Str, StrList
from switchboard.contract.push_token import MAX_TOKEN_CHARS

# Kinds of caller: the edge nodes, the messaging service (its delivery sweep asks devices for presence), the
# notifications service (a user's devices, the pushable devices of a batch's recipients; clearing a token its
# provider refused), the operator tools (switchboard status, sessions, devices, kick, send-system: reading,
# kicking, system messages) and outside backends (each limited further to the methods its entry in the callers
# file lists).
EDGE, MESSAGING, NOTIFICATIONS, OPERATOR, BACKEND = "edge", "messaging", "notifications", "operator", "backend"
PUBLIC = frozenset({EDGE, BACKEND})
OPERATED = PUBLIC | {OPERATOR}  # public RPCs the operator tools call too
INTERNAL = frozenset({EDGE})
CALLERS = ("internal RPCs are the edges' alone; public ones are open to the edges and to outside backends whose "
           "entry lists them (docs: README, Calling the gRPC APIs)")


@dataclasses.dataclass(frozen=True, slots=True)
class Rpc:
    service: str
    name: str
    fields: tuple[Field, ...]
    doc: str
    callers: frozenset[str] = PUBLIC

    def field(self, name: str) -> Any:
        return next(f for f in self.fields if f.name == name)

    def check(self, request: Any) -> dict[str, Any]:
        """Each declared field of a protobuf request, checked against its limits (zero values are absent)."""
        return {f.name: f.check(getattr(request, f.name)) for f in self.fields}


def _as(field: Field, name: str, **changes: Any) -> Field:
    return dataclasses.replace(field, name=name, **changes)


_USER = Int("user_id", required=True, minimum=1)
_USERS = IdList("user_ids", max_items=1000)  # users asked about in one call (presence, pushable devices)
_ID = Str("id", required=True, max_len=255)
_MESSAGING, _DEVICES = "MessagingService", "DeviceService"
_SESSION = s.SESSION_ID
# Who acts, as the caller asserts it (the edge: from the JWT).
_ACTOR = (Int("actor_id", required=True, minimum=1),
          Str("actor_role", required=True, max_len=16, choices=ALL_ROLES))
_SEND_FIELDS = (
    _SESSION, _as(s.TEXT, "text"), s.MESSAGE_TYPE, s.REPLY_TO, s.CLIENT_MSG_ID,
    Str("sender_role", required=True, max_len=16, choices=s.SENDER_ROLES), Int("sender_id", required=True, minimum=1),
)

RPCS: dict[str, Rpc] = {r.name: r for r in (
    Rpc(_MESSAGING, "OpenSession", (_USER,), "the customer's open session, created if it has none"),
    Rpc(_MESSAGING, "AssignAgent",
        (_SESSION, Int("agent_id", required=True, minimum=1),
         Bool("take_over", doc="replace an assigned agent (admins; session_updated reason `taken_over`)")),
        "take a session"),
    Rpc(_MESSAGING, "GetSession", (_SESSION,), "one session", OPERATED),
    Rpc(_MESSAGING, "CloseSession", (_SESSION, *_ACTOR), "close a session (its customer, its agent, an admin); "
        "session_updated reason `closed`; a closed one is a no-op"),
    Rpc(_MESSAGING, "TransferSession", (_SESSION, *_ACTOR, s.AGENT_ID),
        "hand a session to another agent (its agent, an admin); session_updated reason `transferred`, also to "
        "the previous agent. Messaging does not know roles: the caller asserts that `agent_id` is an agent"),
    Rpc(_MESSAGING, "ListSessions",
        (*_ACTOR, _as(s.SESSION_SCOPE, "scope", required=True), s.SESSION_STATUS,
         _as(s.SESSIONS_CURSOR, "after"), _as(s.SESSIONS_LIMIT, "limit", clamp=True)),
        "a page of sessions by scope (as `list_sessions`); pass `next_cursor` back as `after`", OPERATED),
    Rpc(_MESSAGING, "SendMessage", _SEND_FIELDS, "store, sequence and route a message"),
    Rpc(_MESSAGING, "SendMessageBatch", _SEND_FIELDS, "SendMessage for each item; an invalid item fails alone",
        INTERNAL),
    Rpc(_MESSAGING, "SendSystemMessage",
        (_as(_SESSION, "session_id", required=False), Int("user_id", minimum=1), _as(s.TEXT, "text"),
         s.MESSAGE_TYPE, _as(s.CLIENT_MSG_ID, "idempotency_key")),
        "a message from `system` to a session, or to the user's latest open session", OPERATED),
    Rpc(_MESSAGING, "MarkDelivered", (_USER, s.MESSAGE_IDS), "delivered receipts, forward only"),
    Rpc(_MESSAGING, "MarkDeliveredBatch", (_USER, s.MESSAGE_IDS), "MarkDelivered for each item", INTERNAL),
    Rpc(_MESSAGING, "MarkRead", (_USER, s.MESSAGE_IDS), "read receipts, forward only"),
    Rpc(_MESSAGING, "MarkReadUpTo", (_USER, _SESSION, _as(s.UP_TO_SEQUENCE, "sequence_number", minimum=0)),
        "read receipts for a session up to a sequence number"),
    Rpc(_MESSAGING, "SyncHistory",
        (_USER, _SESSION, s.AFTER_SEQUENCE, _as(s.SYNC_LIMIT, "limit", clamp=True)),
        "a page of history; 0 asks for the default page, more than the maximum gets the maximum", OPERATED),
    Rpc(_MESSAGING, "FetchPending", (_USER, Int("limit", minimum=0), Int("after_id", minimum=0)),
        "undelivered messages of a user, per session in order"),
    Rpc(_DEVICES, "RegisterDevice",
        (_USER, s.DEVICE_ID, _as(s.DEVICE_INFO, "info"),
         Str("role", required=True, max_len=16, choices=ALL_ROLES,
             doc="bound to the user id at its first registration; another role is refused (`FORBIDDEN`)")),
        "upsert a device"),
    Rpc(_DEVICES, "ListDevices", (_USER,), "a user's devices", OPERATED | {NOTIFICATIONS}),
    Rpc(_DEVICES, "ListPushDevices", (_USERS,),
        "the active devices holding a push token of many users at once (each with its `user_id`): the "
        "notifications intake asks once per batch of messages", frozenset({NOTIFICATIONS})),
    Rpc(_DEVICES, "KickDevice", (_USER, s.DEVICE_ID, s.REASON), "deactivate a device and close its sockets",
        OPERATED),
    Rpc(_DEVICES, "UpdatePushToken",
        (_USER, s.DEVICE_ID, Str("push_token", max_len=MAX_TOKEN_CHARS, ascii=True), s.PUSH_PROVIDER),
        "a device's push token and its provider (inferred from the token when empty; an empty token clears it)"),
    Rpc(_DEVICES, "ClearPushToken", (_USER, s.DEVICE_ID, Str("push_token", required=True, max_len=MAX_TOKEN_CHARS,
                                                                ascii=True)),
        "forget a token its provider called invalid, if the device still has that one", frozenset({NOTIFICATIONS})),
    Rpc(_DEVICES, "RegisterConnection",
        (_USER, _as(_ID, "connection_id"), _as(_ID, "socket_id"), s.DEVICE_ID, _as(_ID, "node_id"),
         Str("ip_address", max_len=45), Str("user_agent", max_len=4096)), "a socket joins the registry", INTERNAL),
    Rpc(_DEVICES, "TouchConnections", (_as(_ID, "node_id"), StrList("connection_ids", max_items=10_000)),
        "heartbeats of an edge, coalesced", INTERNAL),
    Rpc(_DEVICES, "UnregisterConnection", (_as(_ID, "connection_id"),), "a socket leaves the registry", INTERNAL),
    Rpc(_DEVICES, "ResetNode", (_as(_ID, "node_id"),), "close the rows an edge left behind", INTERNAL),
    Rpc(_DEVICES, "GetPresence", (_USERS,), "online or not, devices, last seen",
        PUBLIC | {MESSAGING}),
    Rpc(_DEVICES, "GetUserRole", (_USER,), "the role the id was bound to at its first registration (empty: "
        "never registered); messaging refuses a `TransferSession` to an id that is not an agent's",
        INTERNAL | {MESSAGING}),
    Rpc(_DEVICES, "RegistryStats", (), "online users, connected sockets per edge node, active devices",
        frozenset({OPERATOR})),
)}
