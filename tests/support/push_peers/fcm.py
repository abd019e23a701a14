"""An FCM peer: Google's OAuth2 token endpoint (the service account's signed JWT grant, verified with the
account's public key) and FCM HTTP v1's ``POST /v1/projects/<project>/messages:send`` (the bearer must be a
token this peer issued)."""

from __future__ import annotations

import dataclasses
import json
import secrets
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.notifications.providers.fcm import SCOPE
from switchboard.certs import TlsFiles
from tests.support.push_peers.server import Peer, Refused, Reply, Request

TOKEN_PATH = "/token"
# google-auth addresses every grant to Google's token endpoint, wherever it posts it, as Google expects.
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"


@dataclasses.dataclass(frozen=True)
class ServiceAccount:
    """A Firebase project's service-account key file, made up for a test (the shape the console downloads)."""

    file: Path
    project_id: str
    client_email: str
    key_id: str
    public_key: rsa.RSAPublicKey


def make_service_account(directory: Path) -> ServiceAccount:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    project, key_id = f"switchboard-test-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    email = f"firebase-adminsdk@{project}.iam.gserviceaccount.com"
    info = {"type": "service_account", "project_id": project, "private_key_id": key_id,
            "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()).decode(),
            "client_email": email, "client_id": str(uuid.uuid4().int)[:21],
            # What a real file names; the tests point SWITCHBOARD_FCM_TOKEN_URI at the peer instead.
            "token_uri": GOOGLE_TOKEN_URI}
    path = directory / "service-account.json"
    path.write_text(json.dumps(info))
    return ServiceAccount(path, project, email, key_id, key.public_key())


def fcm_error(status: int, api_status: str, error_code: str = "") -> Reply:
    """An error as the v1 API words it: a Google API error with, where FCM has one, its own errorCode."""
    details = [{"@type": _FCM_ERROR, "errorCode": error_code}] if error_code else []
    return Reply(status, {"error": {"code": status, "message": api_status.lower(), "status": api_status,
                                    "details": details}})


class FcmPeer(Peer):
    def __init__(self, tls: TlsFiles, account: ServiceAccount) -> None:
        super().__init__(tls)
        self.account = account
        self.unregistered: set[str] = set()  # registration tokens answered 404 UNREGISTERED
        self.access_tokens: list[str] = []  # issued, in order; revoke() empties it

    def settings(self) -> dict[str, str]:
        return {**super().settings(), "fcm_service_account_file": str(self.account.file),
                "fcm_base_url": self.base_url, "fcm_token_uri": self.base_url + TOKEN_PATH}

    def revoke(self) -> None:
        """Forget every access token issued, as if they had expired early."""
        self.access_tokens.clear()

    def scriptable(self, request: Request) -> bool:
        return request.path != TOKEN_PATH

    def sends(self) -> list[Request]:
        return [r for r in self.received if r.path != TOKEN_PATH]

    def check(self, request: Request) -> Any:
        if request.method == "POST" and request.path == TOKEN_PATH:
            return self._check_grant(request)
        if request.method != "POST" or request.path != f"/v1/projects/{self.account.project_id}/messages:send":
            raise Refused(f"no such API: {request.method} {request.path}", 404,
                          fcm_error(404, "NOT_FOUND").body)
        scheme, _, bearer = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or bearer not in self.access_tokens:
            raise Refused("bearer is not an issued access token", 401, fcm_error(401, "UNAUTHENTICATED").body)
        body = json.loads(request.body)
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict) or not message.get("token"):
            raise Refused("message.token missing", 400, fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT").body)
        if not all(isinstance(v, str) for v in message.get("data", {}).values()):
            raise Refused("data values must be strings", 400,
                          fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT").body)
        return message

    def _check_grant(self, request: Request) -> dict[str, Any]:
        """RFC 7523's JWT bearer grant as Google checks it: RS256 by the account's key, for Google's endpoint, asking
        for the FCM scope, living at most an hour."""
        form = dict(urllib.parse.parse_qsl(request.body.decode()))
        refusal = {"error": "invalid_grant", "error_description": "bad assertion"}
        if form.get("grant_type") != GRANT_TYPE:
            raise Refused(f"grant_type {form.get('grant_type')!r}", 400, refusal)
        try:
            if jwt.get_unverified_header(form.get("assertion", "")).get("kid") != self.account.key_id:
                raise Refused("unknown key id", 400, refusal)
            claims = jwt.decode(form["assertion"], self.account.public_key, algorithms=["RS256"],
                                audience=GOOGLE_TOKEN_URI, options={"require": ["iss", "iat", "exp"]})
        except jwt.PyJWTError as exc:
            raise Refused(f"assertion: {exc}", 400, refusal) from None
        if claims["iss"] != self.account.client_email or SCOPE not in claims.get("scope", "").split():
            raise Refused(f"wrong issuer or scope: {claims}", 400, refusal)
        if claims["exp"] - claims["iat"] > 3600:
            raise Refused("assertion lives longer than an hour", 400, refusal)
        return claims

    def answer(self, request: Request) -> Reply:
        if request.path == TOKEN_PATH:
            self.access_tokens.append(secrets.token_urlsafe(24))
            return Reply(200, {"access_token": self.access_tokens[-1], "expires_in": 3600, "token_type": "Bearer"})
        if request.decoded["token"] in self.unregistered:
            return fcm_error(404, "NOT_FOUND", "UNREGISTERED")
        return Reply(200, {"name": f"projects/{self.account.project_id}/messages/{uuid.uuid4().hex}"})
