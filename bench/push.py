"""The push provider the bench's notifications service talks to: the tests' loopback FCM peer (OAuth2 token
endpoint and FCM HTTP v1 over TLS, tests/support/push_peers), in the bench process.

FCM alone, because the question is what a configured provider adds to the message path (intake's devices call
per recipient, the push rows, the sender's claims), and that is the same for every provider; the provider's own
requests happen only for devices without a live socket, which the throughput pairs never are. The peer comes
from tests/, so this variant runs from a checkout (as the bench always does), not from an installed wheel.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from switchboard import certs

if TYPE_CHECKING:
    from tests.support.push_peers.fcm import FcmPeer


async def start_fcm_peer(directory: Path) -> FcmPeer:
    """A started FCM peer with its own CA, server certificate and service account in ``directory`` (which
    exists); its
    ``env()`` points a notifications service at it."""
    from tests.support.push_peers.fcm import FcmPeer, make_service_account

    tls = certs.issue(directory, "push-peer", hosts=("127.0.0.1", "localhost"))
    peer = FcmPeer(tls, make_service_account(directory))
    await peer.start()
    return peer
