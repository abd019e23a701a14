"""An APNs peer: Apple's ``POST /3/device/<token>`` provider API over HTTP/2 and TLS, checking what Apple
checks: the provider JWT (ES256 with the team's key, ``kid``, ``iss``, a fresh ``iat``), ``apns-topic``,
``apns-push-type`` (and the priority it requires) and ``apns-collapse-id``."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from switchboard.certs import TlsFiles
from tests.support.push_peers.server import Peer, Refused, Reply, Request

TOKEN_MAX_AGE_SECONDS = 3600  # Apple: "ExpiredProviderToken" past an hour


@dataclasses.dataclass(frozen=True)
class ApnsKey:
    """What an Apple developer account hands out for token auth, made up for a test."""

    key_file: Path  # the .p8 (PKCS#8 PEM, EC P-256)
    key_id: str
    team_id: str
    topic: str  # the app's bundle id
    public_key: ec.EllipticCurvePublicKey


def make_key(directory: Path) -> ApnsKey:
    key = ec.generate_private_key(ec.SECP256R1())
    key_id = uuid.uuid4().hex[:10].upper()
    path = directory / f"AuthKey_{key_id}.p8"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return ApnsKey(path, key_id, uuid.uuid4().hex[:10].upper(), "com.example.switchboard", key.public_key())


def refuse(reason: str, status: int = 403, why: str = "") -> Refused:
    """A refusal as Apple words it: ``{"reason": "..."}``; ``why`` is for the test's eyes only."""
    return Refused(f"{reason}: {why}" if why else reason, status, {"reason": reason})


class ApnsPeer(Peer):
    def __init__(self, tls: TlsFiles, key: ApnsKey) -> None:
        super().__init__(tls)
        self.key = key
        self.unregistered: set[str] = set()  # device tokens answered 410 Unregistered

    def settings(self) -> dict[str, str]:
        return {**super().settings(), "apns_key_file": str(self.key.key_file), "apns_key_id": self.key.key_id,
                "apns_team_id": self.key.team_id, "apns_topic": self.key.topic, "apns_base_url": self.base_url}

    def check(self, request: Request) -> Any:
        if request.http_version != "2":
            raise refuse("BadRequest", 400, f"HTTP/{request.http_version}, APNs speaks HTTP/2 only")
        if request.method != "POST" or not request.path.startswith("/3/device/"):
            raise refuse("BadPath", 404, f"{request.method} {request.path}")
        self._check_provider_token(request.headers.get("authorization", ""))
        headers = request.headers
        if headers.get("apns-topic") != self.key.topic:
            raise refuse("TopicDisallowed", 400, repr(headers.get("apns-topic")))
        push_type, priority = headers.get("apns-push-type"), headers.get("apns-priority", "10")
        if push_type not in ("alert", "background"):
            raise refuse("InvalidPushType", 400, repr(push_type))
        if push_type == "background" and priority != "5":
            raise refuse("BadPriority", 400, "a background push must have priority 5")
        if len(headers.get("apns-collapse-id", "").encode()) > 64:
            raise refuse("BadCollapseId", 400)
        if len(request.body) > 4096:
            raise refuse("PayloadTooLarge", 413)
        body = json.loads(request.body)
        if not isinstance(body.get("aps"), dict):
            raise refuse("PayloadEmpty", 400, "no aps dictionary")
        return body

    def _check_provider_token(self, authorization: str) -> None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise refuse("MissingProviderToken")
        try:
            if jwt.get_unverified_header(token).get("kid") != self.key.key_id:
                raise refuse("InvalidProviderToken", why="unknown kid")
            claims = jwt.decode(token, self.key.public_key, algorithms=["ES256"],
                                options={"require": ["iss", "iat"], "verify_iat": True})
        except jwt.PyJWTError as exc:
            raise refuse("InvalidProviderToken", why=str(exc)) from None
        if claims["iss"] != self.key.team_id:
            raise refuse("InvalidProviderToken", why="wrong team")
        if time.time() - claims["iat"] > TOKEN_MAX_AGE_SECONDS:
            raise refuse("ExpiredProviderToken")

    def answer(self, request: Request) -> Reply:
        if request.path.removeprefix("/3/device/") in self.unregistered:
            return Reply(410, {"reason": "Unregistered", "timestamp": int(time.time() * 1000)})
        return Reply(200, headers={"apns-id": str(uuid.uuid4())})

    def tokens(self) -> list[str]:
        """The device tokens of the accepted requests, in order."""
        return [r.path.removeprefix("/3/device/") for r in self.received]
