"""Every event validates its payload and answers a clear error; nothing raises a traceback at the client."""

from __future__ import annotations

import pytest

from tests.conftest import Connect

MALFORMED = [
    ("register", "not an object"),
    ("register", {"user_id": "abc", "device_id": "d"}),
    ("heartbeat", ["a", "list"]),
    ("open_session", 42),
    ("join_session", {}),
    ("join_session", {"session_id": 7}),
    ("send_message", {}),
    ("send_message", {"session_id": "s"}),
    ("send_message", {"session_id": "s", "message": ""}),
    ("send_message", {"session_id": "s", "message": 12}),
    ("send_message", {"session_id": "s", "message": "x" * 10_001}),
    ("send_message", {"session_id": "s", "message": "hi", "reply_to_message_id": "abc"}),
    ("send_message", {"session_id": "s", "message": "hi", "client_msg_id": "x" * 65}),
    ("message_delivered", {}),
    ("message_delivered", {"message_id": "abc"}),
    ("message_delivered", {"message_ids": []}),
    ("message_delivered", {"message_ids": [1, "x"]}),
    ("message_read", {"message_id": -3}),
    ("message_read", {"up_to_sequence": 3}),
    ("sync", {}),
    ("sync", {"session_id": "s", "limit": 201}),
    ("sync", {"session_id": "s", "after_sequence": "later"}),
    ("typing", {"session_id": "s", "is_typing": "yes"}),
    ("kick_device", {}),
    ("update_push_token", {}),
]


@pytest.mark.parametrize(("event", "payload"), MALFORMED, ids=[f"{e}-{i}" for i, (e, _) in enumerate(MALFORMED)])
async def test_malformed_payloads_get_invalid_argument(connect: Connect, event: str, payload: object) -> None:
    user = await connect("agent" if event == "join_session" else "user")
    reply = await user.call(event, payload)
    assert reply["success"] is False
    assert reply["error"]["code"] == "INVALID_ARGUMENT", reply
    assert reply["error"]["message"]


async def test_unknown_session_is_not_found(connect: Connect) -> None:
    user = await connect()
    reply = await user.call("send_message", {"session_id": "no-such-session", "message": "hi"})
    assert reply["error"]["code"] == "NOT_FOUND"


async def test_heartbeat_answers_an_iso_timestamp(connect: Connect) -> None:
    user = await connect()
    reply = await user.call("heartbeat", {"connection_id": user.connection_id})
    assert reply["success"] is True
    assert reply["timestamp"].endswith("Z") and "T" in reply["timestamp"]


async def test_heartbeat_for_another_connection_is_forbidden(connect: Connect) -> None:
    user = await connect()
    reply = await user.call("heartbeat", {"connection_id": "someone-elses"})
    assert reply["error"]["code"] == "FORBIDDEN"
