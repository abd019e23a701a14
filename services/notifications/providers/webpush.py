"""Web Push for browsers: RFC 8030 (the push service's HTTP API), RFC 8291 (the payload encrypted with
``aes128gcm`` to the subscription's keys) and RFC 8292 (VAPID: an ES256 JWT for the endpoint's origin), through
pywebpush and py-vapid. pywebpush's aiohttp path keeps the request off the event loop's way; the encryption
itself is one ECDH and one AES-GCM block, too small to be worth a thread.

A subscription's endpoint is a URL the browser chose and the client sent us; it is used only when it is https
on an allowed push service host (settings), so a forged one cannot make this service call into our own
network. A subscription that fails those checks is an invalid token, as one the push service forgot is."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from pywebpush import WebPushException, webpush_async

from services.notifications.providers import transport
from services.notifications.providers.base import Outcome, Push, Result
from services.notifications.providers.settings import PushProviderSettings, configured

VAPID_LIFETIME_SECONDS = 12 * 3600  # RFC 8292: at most 24 hours; pywebpush's default
TOPIC_CHARS = 32  # RFC 8030: a Topic is at most 32 base64url characters


def topic(collapse_key: str) -> str:
    """RFC 8030's ``Topic`` for a collapse key: a digest, which always fits 32 url-safe characters and tells the
    browser vendor's push service nothing about our session ids."""
    return base64.urlsafe_b64encode(hashlib.sha256(collapse_key.encode()).digest()).decode()[:TOPIC_CHARS]


def payload(push: Push) -> dict[str, Any]:
    """What the service worker receives: a notification to show (``tag`` replaces the session's earlier one),
    or for a silent push only the tag and data, telling it to close that notification (docs/push.md)."""
    shown = {} if push.silent else {"title": push.title, "body": push.body}
    return {**shown, "tag": push.collapse_key, "data": transport.app_data(push)}


def _b64url(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


class WebPushProvider:
    name = "webpush"

    def __init__(self, *, vapid: Vapid, subject: str, ttl: int, allowed_hosts: str, ca_file: str = "",
                 timeout: float = 10.0, concurrency: int = 50) -> None:
        self._vapid, self._subject, self._ttl, self._timeout = vapid, subject, ttl, timeout
        self._hosts = tuple(h.strip().lower().strip(".") for h in allowed_hosts.split(",") if h.strip())
        self._ca_file = ca_file
        self._bound = asyncio.Semaphore(concurrency)
        self._session: aiohttp.ClientSession | None = None  # made in the loop, on first use

    @classmethod
    def from_settings(cls, settings: PushProviderSettings) -> WebPushProvider | None:
        if not configured(settings, "webpush_vapid_private_key_file", "webpush_vapid_subject"):
            return None
        if not settings.webpush_vapid_subject.startswith(("mailto:", "https://")):
            raise ValueError("SWITCHBOARD_WEBPUSH_VAPID_SUBJECT must be a mailto: or https: URL (RFC 8292)")
        # Read here rather than by Vapid.from_file, which makes and saves a new key when the file is missing.
        vapid = Vapid.from_pem(Path(settings.webpush_vapid_private_key_file).read_bytes())
        return cls(vapid=vapid, subject=settings.webpush_vapid_subject, ttl=settings.webpush_ttl_seconds,
                   allowed_hosts=settings.webpush_allowed_hosts, ca_file=settings.push_provider_ca_file,
                   timeout=settings.push_provider_timeout_seconds, concurrency=settings.push_provider_concurrency)

    @property
    def application_server_key(self) -> str:
        """The VAPID public key, base64url: what a page passes to ``pushManager.subscribe`` as
        ``applicationServerKey``; push services refuse our pushes to subscriptions made with another."""
        raw = self._vapid.public_key.public_bytes(serialization.Encoding.X962,
                                                  serialization.PublicFormat.UncompressedPoint)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def subscription(self, token: str) -> dict[str, Any] | None:
        """The stored subscription JSON when it is one we may send to: an https endpoint on an allowed host and
        keys of the right shape (a P-256 point, a 16-byte secret); else None."""
        try:
            value = json.loads(token)
        except ValueError:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("keys"), dict):
            return None
        endpoint = value.get("endpoint")
        url = urlsplit(endpoint) if isinstance(endpoint, str) else None
        if url is None or url.scheme != "https" or not self._allowed(url.hostname or ""):
            return None
        p256dh, auth = _b64url(value["keys"].get("p256dh")), _b64url(value["keys"].get("auth"))
        if p256dh is None or len(p256dh) != 65 or p256dh[0] != 4 or auth is None or len(auth) != 16:
            return None
        return {"endpoint": endpoint, "keys": {"p256dh": value["keys"]["p256dh"], "auth": value["keys"]["auth"]}}

    def _allowed(self, host: str) -> bool:
        host = host.lower()
        return any(host == allowed or host.endswith("." + allowed) for allowed in self._hosts)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(ssl=transport.ssl_context(self._ca_file))
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    async def send(self, push: Push) -> Result:
        subscription = self.subscription(push.token)
        if subscription is None:
            return Result(Outcome.INVALID_TOKEN, detail="not a usable subscription")
        headers: dict[str, str | int | float] = {"Topic": topic(push.collapse_key),
                                                 "Urgency": "normal" if push.silent else "high"}
        async with self._bound:
            try:
                response = await webpush_async(
                    subscription, json.dumps(payload(push)), vapid_private_key=self._vapid,
                    vapid_claims={"sub": self._subject}, ttl=self._ttl, headers=headers,
                    aiohttp_session=self._client(), timeout=self._timeout)
            except WebPushException as exc:
                return self._refusal(exc)
            except (aiohttp.ClientError, TimeoutError) as exc:
                return transport.unreachable(exc)
        assert isinstance(response, aiohttp.ClientResponse)  # only curl=True answers a string
        return Result(Outcome.ACCEPTED, detail=response.headers.get("location", ""))

    def _refusal(self, exc: WebPushException) -> Result:
        status = exc.status_code
        if status is None:  # pywebpush refused the subscription before sending
            return Result(Outcome.INVALID_TOKEN, detail=exc.message)
        if status in (404, 410):
            return Result(Outcome.INVALID_TOKEN, detail=str(status))
        if transport.transient(status):
            return transport.retry(status, exc.retry_after)
        return Result(Outcome.FAILED, detail=str(status))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
