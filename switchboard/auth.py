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


class TokenVerifier:
    def __init__(self, secret: str, public_key: str = "") -> None:
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
    now = int(time.time())
    claims = {"sub": str(user_id), "role": role, "iat": now, "exp": now + ttl_seconds}
    return jwt.encode(claims, secret, algorithm="HS256")
