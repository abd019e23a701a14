"""The fields shared by the socket.io events and the RPCs, each with its limits written once. The numbers follow
the schema (column widths) and the product (a chat message is at most 10,000 characters)."""

from __future__ import annotations

from switchboard.contract.fields import Bool, IdList, Int, Obj, Str
from switchboard.contract.push_token import PROVIDERS, PushToken

MESSAGE_TYPES = frozenset({"text", "image", "file", "audio", "video", "card"})
DEVICE_TYPES = frozenset({"desktop", "mobile", "web", "other"})
SENDER_ROLES = frozenset({"user", "agent"})

MAX_TEXT_CHARS = 10_000
MAX_RECEIPT_IDS = 500
HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200

SESSION_ID = Str("session_id", required=True, max_len=255, doc="the session")
TEXT = Str("message", required=True, max_len=MAX_TEXT_CHARS, nonblank=True, doc="the message text (or its URL / card)")
MESSAGE_TYPE = Str("message_type", max_len=32, choices=MESSAGE_TYPES, default="text")
CLIENT_MSG_ID = Str("client_msg_id", max_len=64,
                    doc="idempotency key, compared byte for byte, scoped to (sender, session)")
REPLY_TO = Int("reply_to_message_id", minimum=1)
MESSAGE_ID = Int("message_id", required=True, minimum=1)
MESSAGE_IDS = IdList("message_ids", required=True, max_items=MAX_RECEIPT_IDS)
USER_ID = Int("user_id", required=True, minimum=1)
CLAIMED_USER_ID = Int("user_id", minimum=1, doc="must equal the token's user")
CONNECTION_ID = Str("connection_id", max_len=255)
DEVICE_ID = Str("device_id", required=True, max_len=255)
TOKEN = Str("token", max_len=8192, ascii=True, doc="a JWT; refreshes the socket's identity when given")
ROLE = Str("role", max_len=16, doc="must equal the token's role")

# user_devices' column widths (the spec's table).
DEVICE_INFO = Obj("device_info", fields=(
    Str("device_name", max_len=255),
    Str("device_type", max_len=16, choices=DEVICE_TYPES, default="other"),
    Str("platform", max_len=100),
    Str("browser", max_len=100),
    Str("os_version", max_len=100),
    Str("app_version", max_len=50),
))
DEVICE_INFO_FIELDS = {f.name: f for f in DEVICE_INFO.fields}

AFTER_SEQUENCE = Int("after_sequence", minimum=0)
UP_TO_SEQUENCE = Int("up_to_sequence", required=True, minimum=1)
SYNC_LIMIT = Int("limit", minimum=1, maximum=HISTORY_MAX_LIMIT, default=HISTORY_DEFAULT_LIMIT)
IS_TYPING = Bool("is_typing", default=True)
REASON = Str("reason", max_len=1024)
PUSH_TOKEN = PushToken("push_token", required=True, doc="where to push this device; empty clears it")
PUSH_PROVIDER = Str("push_provider", max_len=16, choices=PROVIDERS)

# Sessions as an agent console lists them: whose (scope), which (status), paged by a cursor.
SESSION_SCOPES = frozenset({"mine", "waiting", "all"})
SESSION_STATUSES = frozenset({"open", "closed"})
SESSIONS_DEFAULT_LIMIT = 20
SESSIONS_MAX_LIMIT = 100
SESSION_SCOPE = Str("scope", max_len=16, choices=SESSION_SCOPES, default="mine",
                    doc="`mine`: the caller's own (a customer's, or those assigned to the agent or admin); "
                        "`waiting`: open sessions with no agent, oldest first (agents, admins); "
                        "`all`: every session (admins)")
SESSION_STATUS = Str("status", max_len=16, choices=SESSION_STATUSES,
                     doc="open or closed; absent: both (the waiting queue is open)")
SESSIONS_CURSOR = Int("cursor", minimum=0, doc="the previous page's `next_cursor`; absent: the first page")
SESSIONS_LIMIT = Int("limit", minimum=1, maximum=SESSIONS_MAX_LIMIT, default=SESSIONS_DEFAULT_LIMIT)
AGENT_ID = Int("agent_id", required=True, minimum=1, doc="the agent to hand the session to")
