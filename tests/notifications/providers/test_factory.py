"""The providers a deployment gets from its settings, and the in-flight bound every provider keeps."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from services.notifications.providers.base import Outcome, Provider, Push
from services.notifications.providers.factory import build_providers
from services.notifications.providers.settings import PushProviderSettings
from tests.support.polling import eventually
from tests.support.push_peers.apns import ApnsPeer
from tests.support.push_peers.fcm import FcmPeer
from tests.support.push_peers.server import Peer
from tests.support.push_peers.webpush import WebPushPeer


async def close(providers: dict[str, Provider]) -> None:
    for provider in providers.values():
        await provider.close()


def test_no_credentials_no_providers() -> None:
    assert build_providers(PushProviderSettings()) == {}


async def test_each_configured_provider_is_built_under_its_name(apns_peer: ApnsPeer, fcm_peer: FcmPeer,
                                                                 webpush_peer: WebPushPeer) -> None:
    only_fcm = build_providers(PushProviderSettings(**fcm_peer.settings()))
    everything = build_providers(PushProviderSettings(**{**apns_peer.settings(), **fcm_peer.settings(),
                                                         **webpush_peer.settings()}))
    try:
        assert sorted(only_fcm) == ["fcm"]
        assert sorted(everything) == ["apns", "fcm", "webpush"]
        assert all(name == provider.name for name, provider in everything.items())
    finally:
        await close(only_fcm)
        await close(everything)


@pytest.mark.parametrize("bad", [{"push_provider_concurrency": 0}, {"push_provider_timeout_seconds": 0.0}])
def test_a_bound_that_would_stop_every_push_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="SWITCHBOARD_PUSH_PROVIDER_"):
        PushProviderSettings(**bad)


@pytest.mark.parametrize("missing", ["webpush_vapid_subject", "apns_key_id"])
def test_a_half_configured_provider_stops_the_start(apns_peer: ApnsPeer, webpush_peer: WebPushPeer,
                                                    missing: str) -> None:
    settings = {**apns_peer.settings(), **webpush_peer.settings(), missing: ""}
    with pytest.raises(ValueError, match=f"SWITCHBOARD_{missing.upper()}"):
        build_providers(PushProviderSettings(**settings))


@pytest.mark.parametrize("name", ["apns", "fcm", "webpush"])
async def test_each_provider_keeps_at_most_its_bound_in_flight(apns_peer: ApnsPeer, fcm_peer: FcmPeer,
                                                               webpush_peer: WebPushPeer, push: Push,
                                                               name: str) -> None:
    peer: Peer = {"apns": apns_peer, "fcm": fcm_peer, "webpush": webpush_peer}[name]
    [provider] = build_providers(PushProviderSettings(**peer.settings(), push_provider_concurrency=2)).values()
    token = peer.subscribe().token if isinstance(peer, WebPushPeer) else "ab" * 32
    if isinstance(peer, FcmPeer):  # fetch the access token first: the gate holds every request
        assert (await provider.send(dataclasses.replace(push, token=token))).outcome is Outcome.ACCEPTED
    peer.gate.clear()
    sends = [asyncio.create_task(provider.send(dataclasses.replace(push, token=token))) for _ in range(5)]
    try:
        await eventually(lambda: peer.in_flight, 2)
        await asyncio.sleep(0.3)  # room for a third to arrive, were the bound broken
        assert peer.in_flight == 2
    finally:
        peer.gate.set()
        results = await asyncio.gather(*sends)
        await provider.close()
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 5
    assert peer.max_in_flight == 2
