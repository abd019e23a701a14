"""The contract's declaration: its generated docs are current, its field checks take only what they should, and
the services read their limits from it (no second copy to drift)."""

from __future__ import annotations

import pytest

from protos import devices_pb2, messaging_pb2
from switchboard.auth import TokenVerifier
from switchboard.contract import EVENTS, MAX_PACKET_BYTES, RPCS
from switchboard.contract.docs import DOC_PATH, render
from switchboard.contract.schema import DEVICE_INFO_FIELDS, HISTORY_MAX_LIMIT, MAX_TEXT_CHARS
from switchboard.errors import InvalidArgument, Unauthenticated

SECRET = "contract-test-secret-long-enough-for-hs256"


def test_docs_contract_md_is_generated_from_the_declaration() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render(), "run: python -m switchboard.contract docs"


@pytest.mark.parametrize("text", ["²", "--5", "１２", " 5", "5 ", "+5", "0x10", "1e3", "٣", "", "-", "1" * 20])
def test_only_ascii_digits_are_numbers(text: str) -> None:
    with pytest.raises(InvalidArgument):
        EVENTS["sync"].parse({"session_id": "s", "after_sequence": text or "x"})


def test_numbers_as_strings_and_integers_are_both_accepted() -> None:
    assert EVENTS["sync"].parse({"session_id": "s", "after_sequence": "17", "limit": 3}) == {
        "session_id": "s", "after_sequence": 17, "limit": 3}
    assert EVENTS["message_read"].parse({"message_ids": ["4", 5]})["message_ids"] == [4, 5]
    with pytest.raises(InvalidArgument):
        EVENTS["message_read"].parse({"message_ids": [True]})


def test_a_token_whose_sub_is_not_ascii_digits_is_refused() -> None:
    import jwt
    token = jwt.encode({"sub": "１２", "role": "user", "exp": 2**40}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated) as refused:
        TokenVerifier(SECRET).verify(token)
    assert refused.value.reason == "TOKEN_INVALID"


def test_one_limit_serves_the_edge_the_services_and_the_sdk() -> None:
    from client.receipts import MAX_BATCH
    from client.rpc import SYNC_MAX
    from services.devices.grpc_service import _device_info
    assert RPCS["SendMessage"].field("text").max_len == EVENTS["send_message"].fields[1].max_len == MAX_TEXT_CHARS
    assert MAX_BATCH == RPCS["MarkRead"].field("message_ids").max_items
    assert SYNC_MAX == HISTORY_MAX_LIMIT
    # app_version was 100 characters at the edge and 50 in devices: one declaration now.
    assert DEVICE_INFO_FIELDS["app_version"].max_len == 50
    with pytest.raises(InvalidArgument):
        EVENTS["register"].parse({"user_id": 1, "device_id": "d", "device_info": {"app_version": "x" * 51}})
    with pytest.raises(InvalidArgument):
        _device_info(devices_pb2.DeviceInfo(app_version="x" * 51))
    with pytest.raises(InvalidArgument):
        RPCS["SendMessage"].check(messaging_pb2.SendMessageRequest(
            session_id="s", sender_id=1, sender_role="user", text="x" * (MAX_TEXT_CHARS + 1)))


def test_the_largest_legal_packet_is_the_largest_events_worst_case() -> None:
    worst = EVENTS["send_message"].max_packet_bytes()
    assert MAX_PACKET_BYTES == worst
    # 10,000 characters of text, each up to 12 bytes escaped (a surrogate pair), fit; 16 MiB does not.
    assert MAX_TEXT_CHARS * 12 < MAX_PACKET_BYTES < 1 << 20
