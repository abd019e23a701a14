"""APNs provider against the loopback APNs peer (HTTP/2, TLS, provider JWT checked)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator

import pytest

from services.notifications.providers.apns import APNsProvider
from services.notifications.providers.base import Outcome, Push
from services.notifications.providers.settings import PushProviderSettings
from switchboard.runner import free_port
from tests.support.push_peers.apns import ApnsPeer
from tests.support.push_peers.server import Reply

TOKEN = "ab" * 32


@pytest.fixture
async def provider(apns_peer: ApnsPeer) -> AsyncIterator[APNsProvider]:
    built = APNsProvider.from_settings(PushProviderSettings(**apns_peer.settings()))
    assert built is not None
    yield built
    await built.close()


@pytest.fixture
def alert(push: Push) -> Push:
    return dataclasses.replace(push, token=TOKEN)


async def test_an_alert_arrives_with_apples_payload_and_headers(provider: APNsProvider, apns_peer: ApnsPeer,
                                                                alert: Push) -> None:
    result = await provider.send(alert)

    assert result.outcome is Outcome.ACCEPTED, (result, apns_peer.refused)
    [request] = apns_peer.received
    assert request.http_version == "2"
    assert apns_peer.tokens() == [TOKEN]
    assert request.headers["apns-topic"] == apns_peer.key.topic
    assert request.headers["apns-push-type"] == "alert"
    assert request.headers["apns-priority"] == "10"
    assert request.headers["apns-collapse-id"] == "session-42"
    assert request.decoded == {
        "aps": {"alert": {"title": "Alice", "body": "Hello there"}, "badge": 3, "sound": "default",
                "thread-id": "session-42"},
        "session_id": "42", "message_id": "7", "badge": "3",
    }


async def test_a_collapse_key_longer_than_apples_limit_is_digested_stably(provider: APNsProvider,
                                                                         apns_peer: ApnsPeer, alert: Push) -> None:
    long = dataclasses.replace(alert, collapse_key="s" * 100)
    assert (await provider.send(long)).outcome is Outcome.ACCEPTED
    assert (await provider.send(long)).outcome is Outcome.ACCEPTED

    first, second = (r.headers["apns-collapse-id"] for r in apns_peer.received)
    assert first == second and len(first) == 64 and first != "s" * 64


async def test_a_silent_push_is_a_background_wake_up_without_alert(provider: APNsProvider, apns_peer: ApnsPeer,
                                                                   alert: Push) -> None:
    result = await provider.send(dataclasses.replace(alert, silent=True))

    assert result.outcome is Outcome.ACCEPTED, (result, apns_peer.refused)
    [request] = apns_peer.received
    assert request.headers["apns-push-type"] == "background"
    assert request.headers["apns-priority"] == "5"
    assert request.headers["apns-collapse-id"] == "session-42"
    assert request.decoded == {"aps": {"content-available": 1}, "session_id": "42", "message_id": "7",
                               "badge": "3", "silent": "1"}


async def test_an_unregistered_token_is_invalid(provider: APNsProvider, apns_peer: ApnsPeer, alert: Push) -> None:
    apns_peer.unregistered.add(TOKEN)
    result = await provider.send(alert)
    assert result.outcome is Outcome.INVALID_TOKEN
    assert "Unregistered" in result.detail


async def test_a_bad_device_token_is_invalid(provider: APNsProvider, apns_peer: ApnsPeer, alert: Push) -> None:
    apns_peer.answer_next(Reply(400, {"reason": "BadDeviceToken"}))
    assert (await provider.send(alert)).outcome is Outcome.INVALID_TOKEN


async def test_a_token_that_is_not_hex_never_leaves_the_process(provider: APNsProvider, apns_peer: ApnsPeer,
                                                                alert: Push) -> None:
    result = await provider.send(dataclasses.replace(alert, token="../../3/device/" + TOKEN))
    assert result.outcome is Outcome.INVALID_TOKEN
    assert apns_peer.received == [] and apns_peer.refused == []


async def test_429_is_retried_after_the_seconds_apple_asks(provider: APNsProvider, apns_peer: ApnsPeer,
                                                           alert: Push) -> None:
    apns_peer.answer_next(Reply(429, {"reason": "TooManyRequests"}, {"retry-after": "17"}))
    result = await provider.send(alert)
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 17.0)
    assert "TooManyRequests" in result.detail


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_error_is_retried(provider: APNsProvider, apns_peer: ApnsPeer, alert: Push,
                                         status: int) -> None:
    apns_peer.answer_next(Reply(status, {"reason": "ServiceUnavailable"}))
    result = await provider.send(alert)
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, None)
    assert (await provider.send(alert)).outcome is Outcome.ACCEPTED  # the peer is back: the next one goes


async def test_another_refusal_fails_without_retry(provider: APNsProvider, apns_peer: ApnsPeer, alert: Push) -> None:
    apns_peer.answer_next(Reply(413, {"reason": "PayloadTooLarge"}))
    result = await provider.send(alert)
    assert result.outcome is Outcome.FAILED
    assert "PayloadTooLarge" in result.detail


async def test_the_provider_token_is_reused_then_renewed_within_apples_hour(apns_peer: ApnsPeer,
                                                                            alert: Push) -> None:
    now = [time.time() - 42 * 60]  # the third send, 42 minutes on, happens now
    provider = APNsProvider.from_settings(PushProviderSettings(**apns_peer.settings()), clock=lambda: now[0])
    assert provider is not None
    try:
        for advance in (0, 60, 41 * 60):
            now[0] += advance
            assert (await provider.send(alert)).outcome is Outcome.ACCEPTED, apns_peer.refused
    finally:
        await provider.close()
    first, second, third = (r.headers["authorization"] for r in apns_peer.received)
    assert first == second != third


async def test_an_expired_provider_token_is_retried(apns_peer: ApnsPeer, alert: Push) -> None:
    two_hours_ago = time.time() - 2 * 3600
    provider = APNsProvider.from_settings(PushProviderSettings(**apns_peer.settings()), clock=lambda: two_hours_ago)
    assert provider is not None
    try:
        result = await provider.send(alert)
    finally:
        await provider.close()
    assert result.outcome is Outcome.RETRY
    assert "ExpiredProviderToken" in result.detail
    assert apns_peer.received == [] and len(apns_peer.refused) == 1


async def test_a_peer_not_signed_by_the_trusted_ca_gets_nothing(apns_peer: ApnsPeer, alert: Push) -> None:
    provider = APNsProvider.from_settings(PushProviderSettings(**{**apns_peer.settings(),
                                                                  "push_provider_ca_file": ""}))
    assert provider is not None
    try:
        result = await provider.send(alert)
    finally:
        await provider.close()
    assert result.outcome is Outcome.RETRY and "unreachable" in result.detail
    assert apns_peer.received == [] and apns_peer.refused == []


async def test_an_unreachable_service_is_retried(apns_peer: ApnsPeer, alert: Push) -> None:
    settings = {**apns_peer.settings(), "apns_base_url": f"https://127.0.0.1:{free_port()}"}
    provider = APNsProvider.from_settings(PushProviderSettings(**settings))
    assert provider is not None
    try:
        result = await provider.send(alert)
    finally:
        await provider.close()
    assert result.outcome is Outcome.RETRY and "unreachable" in result.detail


def test_unconfigured_apns_is_not_built_and_half_configured_refuses_to_start(apns_peer: ApnsPeer) -> None:
    assert APNsProvider.from_settings(PushProviderSettings()) is None
    with pytest.raises(ValueError, match="SWITCHBOARD_APNS_TEAM_ID"):
        APNsProvider.from_settings(PushProviderSettings(**{**apns_peer.settings(), "apns_team_id": ""}))
