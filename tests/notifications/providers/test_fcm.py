"""FCM provider against the loopback FCM peer (OAuth2 JWT grant verified, bearer checked on messages:send)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.notifications.providers.base import Outcome, Push
from services.notifications.providers.fcm import FCMProvider
from services.notifications.providers.settings import PushProviderSettings
from tests.support.push_peers.fcm import TOKEN_PATH, FcmPeer, fcm_error, make_service_account
from tests.support.push_peers.server import Reply

TOKEN = "fcm-registration-token:APA91b" + "x" * 100


@pytest.fixture
async def provider(fcm_peer: FcmPeer) -> AsyncIterator[FCMProvider]:
    built = FCMProvider.from_settings(PushProviderSettings(**fcm_peer.settings()))
    assert built is not None
    yield built
    await built.close()


@pytest.fixture
def alert(push: Push) -> Push:
    return dataclasses.replace(push, token=TOKEN)


async def test_an_alert_arrives_with_the_v1_message_and_a_granted_bearer(provider: FCMProvider, fcm_peer: FcmPeer,
                                                                        alert: Push) -> None:
    result = await provider.send(alert)

    assert result.outcome is Outcome.ACCEPTED, (result, fcm_peer.refused)
    assert f"projects/{fcm_peer.account.project_id}/messages/" in result.detail
    [grant] = [r for r in fcm_peer.received if r.path == TOKEN_PATH]
    assert grant.decoded["iss"] == fcm_peer.account.client_email
    [send] = fcm_peer.sends()
    assert send.decoded == {
        "token": TOKEN,
        "notification": {"title": "Alice", "body": "Hello there"},
        "data": {"session_id": "42", "message_id": "7", "badge": "3"},
        "android": {"collapse_key": "session-42", "priority": "HIGH",
                    "notification": {"tag": "session-42", "notification_count": 3}},
        "apns": {"headers": {"apns-collapse-id": "session-42"},
                 "payload": {"aps": {"badge": 3, "sound": "default", "thread-id": "session-42"}}},
    }


async def test_one_access_token_serves_a_burst(provider: FCMProvider, fcm_peer: FcmPeer, alert: Push) -> None:
    results = [await provider.send(alert) for _ in range(3)]
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 3
    assert len(fcm_peer.access_tokens) == 1 and len(fcm_peer.sends()) == 3


async def test_a_silent_push_is_data_only(provider: FCMProvider, fcm_peer: FcmPeer, alert: Push) -> None:
    result = await provider.send(dataclasses.replace(alert, silent=True))

    assert result.outcome is Outcome.ACCEPTED, (result, fcm_peer.refused)
    [send] = fcm_peer.sends()
    assert "notification" not in send.decoded and "notification" not in send.decoded["android"]
    assert send.decoded["data"] == {"session_id": "42", "message_id": "7", "badge": "3", "silent": "1"}
    assert send.decoded["android"] == {"collapse_key": "session-42", "priority": "NORMAL"}
    assert send.decoded["apns"]["headers"]["apns-push-type"] == "background"
    assert send.decoded["apns"]["payload"] == {"aps": {"content-available": 1}}


async def test_an_unregistered_token_is_invalid(provider: FCMProvider, fcm_peer: FcmPeer, alert: Push) -> None:
    fcm_peer.unregistered.add(TOKEN)
    result = await provider.send(alert)
    assert result.outcome is Outcome.INVALID_TOKEN
    assert "UNREGISTERED" in result.detail


async def test_a_404_without_fcm_error_code_is_invalid(provider: FCMProvider, fcm_peer: FcmPeer,
                                                       alert: Push) -> None:
    fcm_peer.answer_next(fcm_error(404, "NOT_FOUND"))
    assert (await provider.send(alert)).outcome is Outcome.INVALID_TOKEN


async def test_429_is_retried_after_the_seconds_fcm_asks(provider: FCMProvider, fcm_peer: FcmPeer,
                                                         alert: Push) -> None:
    quota = fcm_error(429, "RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED")
    fcm_peer.answer_next(dataclasses.replace(quota, headers={"retry-after": "30"}))
    result = await provider.send(alert)
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 30.0)
    assert "QUOTA_EXCEEDED" in result.detail


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_error_is_retried(provider: FCMProvider, fcm_peer: FcmPeer, alert: Push, status: int) -> None:
    fcm_peer.answer_next(fcm_error(status, "UNAVAILABLE", "UNAVAILABLE"))
    result = await provider.send(alert)
    assert result.outcome is Outcome.RETRY
    assert (await provider.send(alert)).outcome is Outcome.ACCEPTED


async def test_a_revoked_access_token_is_retried_with_a_fresh_one(provider: FCMProvider, fcm_peer: FcmPeer,
                                                                  alert: Push) -> None:
    assert (await provider.send(alert)).outcome is Outcome.ACCEPTED
    fcm_peer.revoke()

    assert (await provider.send(alert)).outcome is Outcome.RETRY
    assert (await provider.send(alert)).outcome is Outcome.ACCEPTED
    assert len(fcm_peer.access_tokens) == 1  # issued after the revocation


async def test_a_bad_payload_fails_without_retry(provider: FCMProvider, fcm_peer: FcmPeer, alert: Push) -> None:
    fcm_peer.answer_next(fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT"))
    result = await provider.send(alert)
    assert result.outcome is Outcome.FAILED and "INVALID_ARGUMENT" in result.detail


async def test_a_service_account_the_token_endpoint_refuses_fails(fcm_peer: FcmPeer, alert: Push,
                                                                 tmp_path: Path) -> None:
    stranger = make_service_account(tmp_path)  # a key the peer's project never issued
    provider = FCMProvider.from_settings(PushProviderSettings(**{**fcm_peer.settings(),
                                                                 "fcm_service_account_file": str(stranger.file),
                                                                 "fcm_project_id": fcm_peer.account.project_id}))
    assert provider is not None
    try:
        result = await provider.send(alert)
    finally:
        await provider.close()
    assert result.outcome is Outcome.FAILED and result.detail.startswith("oauth2:")
    assert fcm_peer.sends() == [] and fcm_peer.access_tokens == []


def test_unconfigured_fcm_is_not_built() -> None:
    assert FCMProvider.from_settings(PushProviderSettings()) is None


async def test_a_retry_after_date_is_read_as_seconds(provider: FCMProvider, fcm_peer: FcmPeer, alert: Push) -> None:
    fcm_peer.answer_next(Reply(503, b"", {"retry-after": "Fri, 31 Dec 1999 23:59:59 GMT"}))
    result = await provider.send(alert)
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 0.0)  # a date in the past: no wait
