"""What a push says: the preview policy of the deployment, the badge, and what a tap opens."""

from __future__ import annotations

from services.notifications.messages import Message
from services.notifications.providers.base import Push
from services.notifications.settings import Settings
from services.notifications.store import Claimed

PRIVATE_BODY = "New message"
# Who a message is from, as a lock screen shows it: the store keeps roles, not display names.
SENDER_TITLES = {"agent": "Agent", "user": "Customer"}


def alert(claimed: Claimed, message: Message, badge: int, token: str, settings: Settings) -> Push:
    """``full``: the sender and the text (a non-text message as ``[image]``, ``[file]``, …), cut to
    ``push_body_max_chars``; ``private``: the deployment's title and "New message", nothing of the content."""
    if settings.push_preview == "full":
        title = SENDER_TITLES.get(message.sender_role, settings.push_title)
        text = message.text if message.message_type == "text" else f"[{message.message_type}]"
        body = text if len(text) <= settings.push_body_max_chars else text[:settings.push_body_max_chars - 1] + "…"
    else:
        title, body = settings.push_title, PRIVATE_BODY
    return Push(token=token, collapse_key=claimed.session_id, title=title, body=body, badge=badge,
                data={"session_id": claimed.session_id, "message_id": str(message.id)})


def withdrawal(claimed: Claimed, badge: int, token: str) -> Push:
    """Silent, with the same collapse key: it replaces (or, where the provider allows, removes) the session's
    notification, and sets the badge to what is still unread."""
    return Push(token=token, collapse_key=claimed.session_id, title="", body="", badge=badge,
                data={"session_id": claimed.session_id, "message_id": str(claimed.message_id)}, silent=True)
