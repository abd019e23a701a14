"""JWT identities. HS256 with a shared secret for development and small deployments, RS256 with a public key
for production (the issuer keeps the private key; Switchboard only verifies)."""

from __future__ import annotations

import dataclasses
import time
from typing import Literal

import jwt

from switchboard.contract.fields import MAX_ID, ascii_int
from switchboard.errors import Unauthenticated

Role = Literal["user", "agent", "admin"]
ROLES: frozenset[str] = frozenset({"user", "agent", "admin"})


@dataclasses.dataclass(frozen=True, slots=True)
class Identity:
    user_id: int
    role: Role


MIN_SECRET_BYTES = 32
# Secrets printed in this repository (an old default, the compose fallback): whoever read it could mint agent or
# admin tokens for any id on a deployment that kept them.
PUBLISHED_SECRETS = frozenset({"dev-secret-change-me-at-least-32-bytes"})


class WeakSecret(ValueError):
    """The HS256 secret would let others mint tokens: empty, short or published."""


def require_strong_secret(secret: str, public_key: str = "") -> None:
    """Refuse to verify or mint tokens with a secret others may know or guess. Not needed with RS256
    (``public_key``): the edge then holds no secret at all."""
    if public_key:
        return
    fix = ("set SWITCHBOARD_JWT_SECRET to at least 32 random bytes (python -c 'import secrets; "
           "print(secrets.token_urlsafe(32))'), or SWITCHBOARD_JWT_PUBLIC_KEY for RS256")
    if not secret:
        raise WeakSecret(f"SWITCHBOARD_JWT_SECRET is empty: {fix}")
    if secret in PUBLISHED_SECRETS:
        raise WeakSecret(f"SWITCHBOARD_JWT_SECRET is a published default, anyone can mint tokens with it: {fix}")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise WeakSecret(f"SWITCHBOARD_JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes: {fix}")


class TokenVerifier:
    def __init__(self, secret: str, public_key: str = "") -> None:
        require_strong_secret(secret, public_key)
        if public_key:
            self._key, self._algorithms = public_key, ["RS256"]
        else:
            self._key, self._algorithms = secret, ["HS256"]

    def verify(self, token: object) -> Identity:
        return self.verify_until(token)[0]

    def verify_until(self, token: object) -> tuple[Identity, float]:
        """The identity and the token's expiry (``exp``, epoch seconds). Raises :class:`Unauthenticated` with
        reason ``TOKEN_MISSING``, ``TOKEN_EXPIRED`` or ``TOKEN_INVALID``."""
        if not isinstance(token, str) or not token:
            raise Unauthenticated("a token is required", reason="TOKEN_MISSING")
        try:
            claims = jwt.decode(
                token, self._key, algorithms=self._algorithms, options={"require": ["sub", "exp"]}
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired", reason="TOKEN_EXPIRED") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"invalid token: {exc}", reason="TOKEN_INVALID") from exc
        sub, role = claims.get("sub"), claims.get("role", "user")
        user_id = ascii_int(sub) if isinstance(sub, str) else None  # "１２" is not a user id
        if user_id is None or not 1 <= user_id <= MAX_ID or role not in ROLES:
            raise Unauthenticated("token claims must carry sub (a user id) and a known role", reason="TOKEN_INVALID")
        return Identity(user_id=user_id, role=role), float(claims["exp"])


def issue_token(user_id: int, role: Role, secret: str, ttl_seconds: int = 24 * 3600) -> str:
    """Mint an HS256 token, for development and tests; production tokens come from the identity provider."""
    require_strong_secret(secret)
    now = int(time.time())
    claims = {"sub": str(user_id), "role": role, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")
