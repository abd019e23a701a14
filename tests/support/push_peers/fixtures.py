"""Pytest fixtures starting the push peers; a conftest imports the ones it needs by name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from switchboard import certs
from switchboard.certs import TlsFiles
from tests.support.push_peers.apns import ApnsPeer, make_key


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
