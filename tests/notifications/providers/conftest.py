"""The push peers' fixtures, and one push as the pipeline would hand it over."""

from __future__ import annotations

import pytest

from services.notifications.providers.base import Push
from tests.support.push_peers.fixtures import apns_peer, fcm_peer, fcm_service_account, push_tls, webpush_peer

__all__ = ["apns_peer", "fcm_peer", "fcm_service_account", "push", "push_tls", "webpush_peer"]


@pytest.fixture
def push() -> Push:
    return Push(token="", collapse_key="session-42", title="Alice", body="Hello there", badge=3,
                data={"session_id": "42", "message_id": "7"})
