"""``POST /dev/token``: a development-only token endpoint, so the widget and console pages work on a laptop
without an identity provider. It mints a token for ANY user id and role, admins included, so it is off unless
``SWITCHBOARD_DEV_TOKEN_ENDPOINT`` turns it on, and an edge refuses to start with it on when it listens beyond
loopback or verifies RS256 tokens (it could not sign them). Production pages get their tokens from their own
backend through the pages' token-provider hook (web/README.md).

The request must be JSON (``content-type: application/json``): a cross-site page cannot send that without a
CORS preflight, which this endpoint never grants, so another site cannot mint tokens through a browser."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from services.connection.limits import Bucket, Rate
from services.connection.settings import Settings
from services.connection.static import Receive, Scope, Send, respond
from switchboard.auth import ROLES, issue_token
from switchboard.contract import fields
from switchboard.errors import InvalidArgument, PayloadTooLarge, RateLimited, SwitchboardError
from switchboard.grpc import is_loopback

log = logging.getLogger(__name__)

PATH = "/dev/token"
MAX_BODY = 1024
# Generous for people reloading pages and for tests, tight enough that the endpoint is no CPU sink.
RATE = Rate(per_second=20, burst=100)
_USER_ID = fields.Int("user_id", required=True, minimum=1)
_STATUS = {InvalidArgument: 400, PayloadTooLarge: 413, RateLimited: 429}


def refusal(settings: Settings) -> str | None:
    """Why this edge may not run the endpoint as configured, or None."""
    if not settings.dev_token_endpoint:
        return None
    if not is_loopback(settings.bind_host):
        return (f"SWITCHBOARD_DEV_TOKEN_ENDPOINT mints tokens for anyone: allowed on a loopback bind host only, "
                f"not {settings.bind_host}")
    if settings.jwt_public_key or not settings.jwt_secret:
        return "SWITCHBOARD_DEV_TOKEN_ENDPOINT needs SWITCHBOARD_JWT_SECRET (HS256) and no RS256 public key"
    return None


class DevTokens:
    """The endpoint's ASGI app: one JSON object in (``user_id``, ``role``), one out (``token``, ``expires_in``)."""

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret, self._ttl = secret, ttl_seconds
        self._bucket = Bucket(RATE.burst, time.monotonic())
        log.warning("development token endpoint ON: POST %s mints a token for any user and role", PATH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await respond(send, 405, b"method not allowed\n", headers=[(b"allow", b"POST")])
            return
        try:
            if not self._bucket.take(RATE, time.monotonic()):
                raise RateLimited("too many token requests; slow down")
            user_id, role = self._parse(scope, await _body(receive))
        except SwitchboardError as exc:
            await _json(send, _STATUS.get(type(exc), 400), exc.to_reply())
            return
        token = issue_token(user_id, role, self._secret, ttl_seconds=self._ttl)  # type: ignore[arg-type]
        await _json(send, 200, {"success": True, "token": token, "user_id": user_id, "role": role,
                                "expires_in": self._ttl})

    @staticmethod
    def _parse(scope: Scope, body: bytes) -> tuple[int, str]:
        content_type = dict(scope.get("headers", ())).get(b"content-type", b"")
        if content_type.split(b";")[0].strip().lower() != b"application/json":
            raise InvalidArgument("send the request as application/json")
        try:
            request = json.loads(body)
        except ValueError:
            raise InvalidArgument("the body is not JSON") from None
        if not isinstance(request, dict):
            raise InvalidArgument("the body must be a JSON object")
        role = request.get("role", "user")
        if role not in ROLES:
            raise InvalidArgument(f"role must be one of {', '.join(sorted(ROLES))}")
        return _USER_ID.parse(request), role


async def _body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            raise PayloadTooLarge(f"a token request is at most {MAX_BODY} bytes")
        if not message.get("more_body"):
            return body


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    await respond(send, status, json.dumps(payload).encode(), "application/json",
                  headers=[(b"cache-control", b"no-store")])
