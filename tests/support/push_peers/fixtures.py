"""Pytest fixtures starting the push peers; a conftest imports the ones it needs by name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchboard import certs
from switchboard.certs import TlsFiles
from tests.support.push_peers.apns import ApnsPeer, make_key
from tests.support.push_peers.fcm import FcmPeer, ServiceAccount, make_service_account
from tests.support.push_peers.webpush import WebPushPeer, make_vapid_key


@pytest.fixture(scope="session")
def push_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A test CA and the peers' server certificate for loopback; providers trust it via push_provider_ca_file."""
    return certs.issue(tmp_path_factory.mktemp("push-ca"), "push-peer", hosts=("127.0.0.1", "localhost"))


@pytest.fixture
async def apns_peer(push_tls: TlsFiles, tmp_path: Path) -> AsyncIterator[ApnsPeer]:
    peer = ApnsPeer(push_tls, make_key(tmp_path))
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture(scope="session")
def fcm_service_account(tmp_path_factory: pytest.TempPathFactory) -> ServiceAccount:
    """One per run: an RSA key takes a noticeable moment to make, and the peer keeps no state in it."""
    return make_service_account(tmp_path_factory.mktemp("fcm"))


@pytest.fixture
async def fcm_peer(push_tls: TlsFiles, fcm_service_account: ServiceAccount) -> AsyncIterator[FcmPeer]:
    peer = FcmPeer(push_tls, fcm_service_account)
    await peer.start()
    yield peer
    await peer.stop()


@pytest.fixture
async def webpush_peer(push_tls: TlsFiles, tmp_path: Path) -> AsyncIterator[WebPushPeer]:
    peer = WebPushPeer(push_tls, make_vapid_key(tmp_path))
    await peer.start()
    yield peer
    await peer.stop()
