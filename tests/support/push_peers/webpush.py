"""A Web Push peer: a browser vendor's push service endpoint (RFC 8030) that checks the VAPID JWT (RFC 8292:
ES256 by the key the subscription was made with, ``aud`` this origin, ``exp`` within 24 hours) and decrypts the
``aes128gcm`` payload (RFC 8291) with the subscription's private key, as the browser would; it records the
plaintext with the TTL, Urgency and Topic headers."""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from switchboard.certs import TlsFiles
from tests.support.push_peers.server import Peer, Refused, Reply, Request

_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
_URGENCIES = {"very-low", "low", "normal", "high"}


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@dataclasses.dataclass(frozen=True)
class VapidKey:
    file: Path  # PEM, as py-vapid's ``vapid --gen`` writes it
    public_key: ec.EllipticCurvePublicKey

    @property
    def application_server_key(self) -> str:
        return b64url(self.public_key.public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint))


def make_vapid_key(directory: Path) -> VapidKey:
    key = ec.generate_private_key(ec.SECP256R1())
    path = directory / "vapid_private.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return VapidKey(path, key.public_key())


@dataclasses.dataclass(frozen=True)
class Subscription:
    """What ``pushManager.subscribe`` makes in a browser: the endpoint, and the key pair and secret whose public
    halves the page sends to the server (``token``) while the private half stays in the browser."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def token(self) -> str:
        p256dh = self.private_key.public_key().public_bytes(serialization.Encoding.X962,
                                                            serialization.PublicFormat.UncompressedPoint)
        return json.dumps({"endpoint": self.endpoint, "keys": {"p256dh": b64url(p256dh), "auth": b64url(self.auth)}})


class WebPushPeer(Peer):
    def __init__(self, tls: TlsFiles, vapid: VapidKey) -> None:
        super().__init__(tls)
        self.vapid = vapid
        self.subscriptions: dict[str, Subscription] = {}  # by path
        self.gone: set[str] = set()  # paths answered 410 Gone (the user unsubscribed)

    def settings(self) -> dict[str, str]:
        return {**super().settings(), "webpush_vapid_private_key_file": str(self.vapid.file),
                "webpush_vapid_subject": "mailto:ops@example.com", "webpush_allowed_hosts": "127.0.0.1"}

    def subscribe(self) -> Subscription:
        path = f"/push/{uuid.uuid4().hex}"
        subscription = Subscription(self.base_url + path, ec.generate_private_key(ec.SECP256R1()),
                                    uuid.uuid4().bytes)
        self.subscriptions[path] = subscription
        return subscription

    def check(self, request: Request) -> Any:
        subscription = self.subscriptions.get(request.path)
        if request.method != "POST" or subscription is None:
            raise Refused(f"no such subscription: {request.method} {request.path}", 404)
        self._check_vapid(request.headers.get("authorization", ""))
        headers = request.headers
        if not headers.get("ttl", "").isdigit():
            raise Refused("TTL header missing", 400)
        if headers.get("urgency", "normal") not in _URGENCIES:
            raise Refused(f"Urgency {headers['urgency']!r}", 400)
        if "topic" in headers and not _TOPIC.fullmatch(headers["topic"]):
            raise Refused(f"Topic {headers['topic']!r} is not 1-32 base64url characters", 400)
        if headers.get("content-encoding") != "aes128gcm":
            raise Refused(f"Content-Encoding {headers.get('content-encoding')!r}", 415)
        try:
            plaintext = http_ece.decrypt(request.body, private_key=subscription.private_key,
                                         auth_secret=subscription.auth, version="aes128gcm")
        except Exception as exc:  # http_ece raises several kinds; the browser would drop any of them
            raise Refused(f"undecryptable payload: {exc!r}", 400) from None
        return json.loads(plaintext)

    def _check_vapid(self, authorization: str) -> None:
        scheme, _, params = authorization.partition(" ")
        fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if scheme.lower() != "vapid" or "t" not in fields or "k" not in fields:
            raise Refused("VAPID authorization missing", 401)
        if fields["k"] != self.vapid.application_server_key:
            raise Refused("VAPID key is not the subscription's applicationServerKey", 403)
        public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _unb64url(fields["k"]))
        try:
            claims = jwt.decode(fields["t"], public_key, algorithms=["ES256"], audience=self.base_url,
                                options={"require": ["aud", "exp", "sub"]})
        except jwt.PyJWTError as exc:
            raise Refused(f"VAPID JWT: {exc}", 403) from None
        if claims["exp"] > time.time() + 24 * 3600:
            raise Refused("VAPID JWT lives longer than 24 hours", 403)
        if not str(claims["sub"]).startswith(("mailto:", "https:")):
            raise Refused(f"VAPID sub {claims['sub']!r}", 403)

    def answer(self, request: Request) -> Reply:
        if request.path in self.gone:
            return Reply(410, b"")
        return Reply(201, b"", {"location": f"{self.base_url}/message/{uuid.uuid4().hex}"})
