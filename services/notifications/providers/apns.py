"""Apple Push Notification service: the HTTP/2 provider API (``POST /3/device/<token>``) with token-based
authentication (an ES256 JWT signed with the team's ``.p8`` key).

Spoken through httpx (HTTP/2 via h2) and PyJWT rather than ``aioapns``: aioapns fixes Apple's host and port
as class constants, so it cannot reach a test peer, and it drops the response headers (``Retry-After``)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.notifications.providers import transport
from services.notifications.providers.base import Outcome, Push, Result
from services.notifications.providers.settings import PushProviderSettings, configured

# Apple refuses a provider token older than an hour and throttles one renewed more often than every 20 minutes.
TOKEN_LIFETIME_SECONDS = 40 * 60
MAX_COLLAPSE_ID_BYTES = 64  # Apple's limit on apns-collapse-id
# A device token is hex (32 bytes today; Apple says the length may grow). It becomes part of the request path,
# so nothing else may pass.
_DEVICE_TOKEN = re.compile(r"[0-9a-fA-F]{16,400}")
# Answers that mean this token will never work again; every other refusal is about us or the payload.
_DEAD_TOKEN_REASONS = frozenset({"BadDeviceToken", "Unregistered"})


def collapse_id(key: str) -> str:
    """``apns-collapse-id`` for a collapse key: the key itself when it fits Apple's 64 bytes, else its digest."""
    return key if len(key.encode()) <= MAX_COLLAPSE_ID_BYTES else hashlib.sha256(key.encode()).hexdigest()


def payload(push: Push) -> dict[str, Any]:
    """A visible alert (title, body, badge, grouped per session), or for a silent push a background wake-up:
    Apple allows only ``content-available`` in a background push's ``aps``, so the app reads ``badge`` and
    ``silent`` from the custom keys and withdraws the session's notification itself."""
    if push.silent:
        aps: dict[str, Any] = {"content-available": 1}
    else:
        aps = {"alert": {"title": push.title, "body": push.body}, "badge": push.badge, "sound": "default",
               "thread-id": push.collapse_key}
    return {**transport.app_data(push), "aps": aps}


class APNsProvider:
    name = "apns"

    def __init__(self, *, key: ec.EllipticCurvePrivateKey, key_id: str, team_id: str, topic: str, base_url: str,
                 ca_file: str = "", timeout: float = 10.0, concurrency: int = 50,
                 clock: Callable[[], float] = time.time) -> None:
        self._key, self._key_id, self._team_id, self._topic = key, key_id, team_id, topic
        self._clock = clock
        self._token = ""
        self._token_issued = 0.0
        self._bound = asyncio.Semaphore(concurrency)
        self._client = httpx.AsyncClient(base_url=base_url, http2=True, timeout=timeout,
                                         verify=transport.ssl_context(ca_file))

    @classmethod
    def from_settings(cls, settings: PushProviderSettings, *,
                      clock: Callable[[], float] = time.time) -> APNsProvider | None:
        if not configured(settings, "apns_key_file", "apns_key_id", "apns_team_id", "apns_topic"):
            return None
        key = serialization.load_pem_private_key(Path(settings.apns_key_file).read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("SWITCHBOARD_APNS_KEY_FILE must be an APNs .p8 (EC P-256) key")
        return cls(key=key, key_id=settings.apns_key_id, team_id=settings.apns_team_id, topic=settings.apns_topic,
                   base_url=settings.apns_base_url, ca_file=settings.push_provider_ca_file,
                   timeout=settings.push_provider_timeout_seconds, concurrency=settings.push_provider_concurrency,
                   clock=clock)

    def _provider_token(self) -> str:
        """The JWT Apple checks on every request, reused for most of its hour (signing each push would be both
        wasted work and throttled by Apple)."""
        now = self._clock()
        if not self._token or now - self._token_issued >= TOKEN_LIFETIME_SECONDS:
            self._token = jwt.encode({"iss": self._team_id, "iat": int(now)}, self._key, algorithm="ES256",
                                     headers={"kid": self._key_id})
            self._token_issued = now
        return self._token

    def _headers(self, push: Push) -> dict[str, str]:
        return {"authorization": f"bearer {self._provider_token()}", "apns-topic": self._topic,
                "apns-push-type": "background" if push.silent else "alert",
                "apns-priority": "5" if push.silent else "10",  # Apple requires 5 for background pushes
                "apns-collapse-id": collapse_id(push.collapse_key)}

    async def send(self, push: Push) -> Result:
        if not _DEVICE_TOKEN.fullmatch(push.token):
            return Result(Outcome.INVALID_TOKEN, detail="BadDeviceToken: not a hex device token")
        async with self._bound:
            try:
                response = await self._client.post(f"/3/device/{push.token}", json=payload(push),
                                                   headers=self._headers(push))
            except httpx.TransportError as exc:
                return transport.unreachable(exc)
        return self._result(response)

    def _result(self, response: httpx.Response) -> Result:
        if response.status_code == 200:
            return Result(Outcome.ACCEPTED, detail=response.headers.get("apns-id", ""))
        reason = _reason(response)
        if response.status_code == 410 or reason in _DEAD_TOKEN_REASONS:
            return Result(Outcome.INVALID_TOKEN, detail=f"{response.status_code} {reason}")
        if reason == "ExpiredProviderToken":  # our clock or cache was off: sign a fresh one next time
            self._token = ""
            return transport.retry(response.status_code, None, reason)
        if transport.transient(response.status_code):
            return transport.retry(response.status_code, response.headers.get("retry-after"), reason)
        return Result(Outcome.FAILED, detail=f"{response.status_code} {reason}")

    async def close(self) -> None:
        await self._client.aclose()


def _reason(response: httpx.Response) -> str:
    """Apple's ``{"reason": "..."}``; a body that is not that (a proxy's error page) has no reason."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("reason", "")) if isinstance(body, dict) else ""
