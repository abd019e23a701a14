"""Web Push provider against the loopback push service peer (VAPID verified, aes128gcm decrypted with the
subscription's private key)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.notifications.providers.base import Outcome, Push
from services.notifications.providers.settings import PushProviderSettings
from services.notifications.providers.webpush import WebPushProvider, topic
from tests.support.push_peers.server import Reply
from tests.support.push_peers.webpush import Subscription, WebPushPeer, make_vapid_key


@pytest.fixture
async def provider(webpush_peer: WebPushPeer) -> AsyncIterator[WebPushProvider]:
    built = WebPushProvider.from_settings(PushProviderSettings(**webpush_peer.settings()))
    assert built is not None
    yield built
    await built.close()


@pytest.fixture
def subscription(webpush_peer: WebPushPeer) -> Subscription:
    return webpush_peer.subscribe()


@pytest.fixture
def alert(push: Push, subscription: Subscription) -> Push:
    return dataclasses.replace(push, token=subscription.token)


async def test_an_alert_arrives_encrypted_for_the_browser_with_vapid(provider: WebPushProvider,
                                                                     webpush_peer: WebPushPeer, alert: Push) -> None:
    result = await provider.send(alert)

    assert result.outcome is Outcome.ACCEPTED, (result, webpush_peer.refused)
    assert result.detail.startswith(webpush_peer.base_url + "/message/")
    [request] = webpush_peer.received
    assert request.decoded == {"title": "Alice", "body": "Hello there", "tag": "session-42",
                               "data": {"session_id": "42", "message_id": "7", "badge": "3"}}
    assert request.headers["ttl"] == str(24 * 3600)
    assert request.headers["urgency"] == "high"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert b"Hello there" not in request.body  # what crossed the wire was ciphertext


async def test_the_topic_collapses_a_session_without_naming_it(provider: WebPushProvider,
                                                               webpush_peer: WebPushPeer, alert: Push) -> None:
    other = dataclasses.replace(alert, collapse_key="session-43")
    for push in (alert, alert, other):
        assert (await provider.send(push)).outcome is Outcome.ACCEPTED, webpush_peer.refused

    first, second, third = (r.headers["topic"] for r in webpush_peer.received)
    assert first == second == topic("session-42") != third
    assert len(first) == 32 and "42" not in first


async def test_a_silent_push_carries_no_notification(provider: WebPushProvider, webpush_peer: WebPushPeer,
                                                     alert: Push) -> None:
    result = await provider.send(dataclasses.replace(alert, silent=True))

    assert result.outcome is Outcome.ACCEPTED, (result, webpush_peer.refused)
    [request] = webpush_peer.received
    assert request.decoded == {"tag": "session-42",
                               "data": {"session_id": "42", "message_id": "7", "badge": "3", "silent": "1"}}
    assert request.headers["urgency"] == "normal"


@pytest.mark.parametrize("status", [404, 410])
async def test_a_subscription_the_push_service_forgot_is_invalid(provider: WebPushProvider,
                                                                 webpush_peer: WebPushPeer, alert: Push,
                                                                 status: int) -> None:
    webpush_peer.answer_next(Reply(status))
    assert (await provider.send(alert)).outcome is Outcome.INVALID_TOKEN


async def test_an_unsubscribed_browser_is_invalid(provider: WebPushProvider, webpush_peer: WebPushPeer,
                                                  alert: Push, subscription: Subscription) -> None:
    webpush_peer.gone.add(subscription.endpoint.removeprefix(webpush_peer.base_url))
    assert (await provider.send(alert)).outcome is Outcome.INVALID_TOKEN


async def test_429_is_retried_after_the_seconds_asked(provider: WebPushProvider, webpush_peer: WebPushPeer,
                                                      alert: Push) -> None:
    webpush_peer.answer_next(Reply(429, b"slow down", {"retry-after": "12"}))
    result = await provider.send(alert)
    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 12.0)


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_error_is_retried(provider: WebPushProvider, webpush_peer: WebPushPeer, alert: Push,
                                         status: int) -> None:
    webpush_peer.answer_next(Reply(status))
    assert (await provider.send(alert)).outcome is Outcome.RETRY
    assert (await provider.send(alert)).outcome is Outcome.ACCEPTED


async def test_another_refusal_fails_without_retry(provider: WebPushProvider, webpush_peer: WebPushPeer,
                                                   alert: Push) -> None:
    webpush_peer.answer_next(Reply(413))
    assert (await provider.send(alert)).outcome is Outcome.FAILED


@pytest.mark.parametrize("mangle", [
    lambda s: {**s, "endpoint": s["endpoint"].replace("https://", "http://")},
    lambda s: {**s, "endpoint": s["endpoint"].replace("127.0.0.1", "localhost")},  # not an allowed host
    lambda s: {**s, "keys": {**s["keys"], "auth": "c2hvcnQ"}},
    lambda s: {**s, "keys": {**s["keys"], "p256dh": s["keys"]["auth"]}},
    lambda s: {"endpoint": s["endpoint"]},
], ids=["http", "host", "auth", "p256dh", "no-keys"])
async def test_a_subscription_we_may_not_send_to_is_invalid_and_never_sent(provider: WebPushProvider,
                                                                           webpush_peer: WebPushPeer, alert: Push,
                                                                           mangle) -> None:
    token = json.dumps(mangle(json.loads(alert.token)))
    assert (await provider.send(dataclasses.replace(alert, token=token))).outcome is Outcome.INVALID_TOKEN
    assert webpush_peer.received == [] and webpush_peer.refused == []


async def test_a_push_signed_with_another_vapid_key_is_refused(webpush_peer: WebPushPeer, alert: Push,
                                                              tmp_path: Path) -> None:
    stranger = make_vapid_key(tmp_path)
    provider = WebPushProvider.from_settings(PushProviderSettings(**{
        **webpush_peer.settings(), "webpush_vapid_private_key_file": str(stranger.file)}))
    assert provider is not None
    try:
        result = await provider.send(alert)
    finally:
        await provider.close()
    assert result.outcome is Outcome.FAILED
    assert webpush_peer.received == [] and "applicationServerKey" in webpush_peer.refused[0][1]


async def test_the_application_server_key_is_the_vapid_public_key(provider: WebPushProvider,
                                                                  webpush_peer: WebPushPeer) -> None:
    assert provider.application_server_key == webpush_peer.vapid.application_server_key


def test_unconfigured_web_push_is_not_built_and_a_bad_subject_refuses_to_start(webpush_peer: WebPushPeer) -> None:
    assert WebPushProvider.from_settings(PushProviderSettings()) is None
    with pytest.raises(ValueError, match="SUBJECT"):
        WebPushProvider.from_settings(PushProviderSettings(**{**webpush_peer.settings(),
                                                              "webpush_vapid_subject": "ops@example.com"}))
