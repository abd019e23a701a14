"""What a push says under each preview policy (pure functions: no deployment needed)."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.notifications import payload
from services.notifications.messages import Message
from services.notifications.settings import Settings
from services.notifications.store import Claimed
from switchboard.settings import load

CLAIMED = Claimed(id=1, user_id=7, device_id="phone", session_id="s-1", message_id=42, kind="alert",
                  stored_at=datetime(2026, 1, 1), attempts=1, shown=False)


def message(text: str = "Your refund was approved", role: str = "agent", kind: str = "text") -> Message:
    return Message(id=42, session_id="s-1", sender_role=role, text=text, message_type=kind, read=False)


def test_a_full_preview_shows_the_sender_and_the_text_cut_to_the_limit() -> None:
    settings = load(Settings, {}, push_body_max_chars=10)
    push = payload.alert(CLAIMED, message("0123456789abc"), 3, "tok", settings)
    assert (push.title, push.body, push.badge, push.collapse_key) == ("Agent", "012345678…", 3, "s-1")
    assert dict(push.data) == {"session_id": "s-1", "message_id": "42"}
    assert payload.alert(CLAIMED, message(kind="image"), 1, "tok", settings).body == "[image]"
    assert payload.alert(CLAIMED, message(role="system"), 1, "tok", settings).title == settings.push_title


def test_a_private_preview_shows_nothing_of_the_message() -> None:
    settings = load(Settings, {}, push_preview="private", push_title="Acme")
    push = payload.alert(CLAIMED, message("card 4111 1111 1111 1111"), 2, "tok", settings)
    assert (push.title, push.body) == ("Acme", "New message")
    assert "4111" not in repr(push)


def test_a_withdrawal_is_silent_under_the_same_collapse_key() -> None:
    push = payload.withdrawal(CLAIMED, 0, "tok")
    assert (push.silent, push.collapse_key, push.badge, push.body) == (True, "s-1", 0, "")


def test_an_unknown_preview_policy_stops_the_start() -> None:
    with pytest.raises(ValueError, match="SWITCHBOARD_PUSH_PREVIEW"):
        load(Settings, {"SWITCHBOARD_PUSH_PREVIEW": "partial"})
