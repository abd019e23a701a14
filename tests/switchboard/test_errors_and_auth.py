"""Stable error codes on both faces, and JWT identities."""

from __future__ import annotations

import time

import grpc
import jwt
import pytest

from switchboard.auth import Identity, TokenVerifier, issue_token
from switchboard.errors import ERRORS_BY_CODE, Forbidden, LimitExceeded, Unauthenticated

SECRET = "unit-test-secret-long-enough-for-hs256"


def test_errors_reply_in_the_contract_shape() -> None:
    assert Forbidden("no").to_reply() == {"success": False, "error": {"code": "FORBIDDEN", "message": "no"}}


def test_every_code_of_the_contract_exists() -> None:
    assert {"UNAUTHENTICATED", "NOT_REGISTERED", "FORBIDDEN", "INVALID_ARGUMENT", "NOT_FOUND",
            "RATE_LIMITED", "UNAVAILABLE", "INTERNAL"} <= set(ERRORS_BY_CODE)


def test_codes_sharing_a_grpc_status_stay_distinct() -> None:
    assert LimitExceeded.grpc_status == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert LimitExceeded.code != ERRORS_BY_CODE["RATE_LIMITED"].code


def test_a_valid_token_gives_the_identity() -> None:
    verifier = TokenVerifier(SECRET)
    assert verifier.verify(issue_token(42, "agent", SECRET)) == Identity(42, "agent")


@pytest.mark.parametrize("token", [None, "", "garbage", issue_token(1, "user", "another-secret-also-long-enough-xx")])
def test_missing_or_forged_tokens_are_unauthenticated(token: str | None) -> None:
    with pytest.raises(Unauthenticated):
        TokenVerifier(SECRET).verify(token)


def test_expired_tokens_are_unauthenticated() -> None:
    with pytest.raises(Unauthenticated, match="expired"):
        TokenVerifier(SECRET).verify(issue_token(1, "user", SECRET, ttl_seconds=-5))


@pytest.mark.parametrize("claims", [{"sub": "abc", "role": "user"}, {"sub": "1", "role": "root"}, {"sub": 1}])
def test_tokens_with_bad_claims_are_unauthenticated(claims: dict) -> None:
    token = jwt.encode({**claims, "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        TokenVerifier(SECRET).verify(token)


def test_rs256_tokens_verify_against_the_public_key() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    token = jwt.encode({"sub": "9", "role": "admin", "exp": int(time.time()) + 60}, key, algorithm="RS256")
    assert TokenVerifier("", public_key=public_pem).verify(token) == Identity(9, "admin")
    with pytest.raises(Unauthenticated):  # an HS256 token signed with the PEM as secret must not pass
        TokenVerifier("", public_key=public_pem).verify(issue_token(9, "admin", SECRET))
