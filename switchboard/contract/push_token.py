"""What ``update_push_token`` accepts, declared once: the spec's plain ``push_token`` string, ``{provider,
token}``, or a Web Push subscription object, each turned into one ``(provider, token)`` the devices service
stores and the notifications service sends with.

A plain string names no provider, so it is inferred: a JSON Web Push subscription (``{"endpoint", "keys"}``)
is ``webpush``; 64 hexadecimal characters are an APNs device token (APNs tokens are 32 bytes, shown as hex);
anything else is an FCM registration token (FCM is what Android and most cross-platform apps register).
An app that knows better sends ``{provider, token}``."""

from __future__ import annotations

import dataclasses
import re
from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson

from switchboard.contract.fields import Field
from switchboard.errors import InvalidArgument

PROVIDERS = frozenset({"apns", "fcm", "webpush"})
# A Web Push subscription's endpoint is a URL the browser's push service chose (a few hundred characters seen);
# FCM tokens are ~160, APNs 64. The column is as wide (devices migration 0003).
MAX_TOKEN_CHARS = 4096
MAX_ENDPOINT_CHARS = 2048
MAX_KEY_CHARS = 256
_APNS = re.compile(r"[0-9a-fA-F]{64}")
_PRINTABLE = re.compile(r"[\x21-\x7e]+")


@dataclasses.dataclass(frozen=True, slots=True)
class Registration:
    provider: str  # "" with an empty token: the device has none
    token: str


def _subscription(value: Any) -> str:
    """A Web Push subscription (``PushSubscription.toJSON()``), checked and stored as compact JSON."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            raise InvalidArgument("push_token: a webpush token must be a subscription object") from None
    if not isinstance(value, dict) or not isinstance(value.get("keys"), dict):
        raise InvalidArgument("push_token: a webpush subscription needs endpoint and keys {p256dh, auth}")
    endpoint, keys = value.get("endpoint"), value["keys"]
    if not isinstance(endpoint, str) or len(endpoint) > MAX_ENDPOINT_CHARS or \
            urlsplit(endpoint).scheme not in ("https", "http") or not urlsplit(endpoint).hostname:
        raise InvalidArgument(f"push_token: endpoint must be an http(s) URL of at most {MAX_ENDPOINT_CHARS} chars")
    cleaned = {}
    for name in ("p256dh", "auth"):
        key = keys.get(name)
        if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS or not _PRINTABLE.fullmatch(key):
            raise InvalidArgument(f"push_token: keys.{name} must be a base64url string")
        cleaned[name] = key
    return orjson.dumps({"endpoint": endpoint, "keys": cleaned}).decode()


def _opaque(token: Any) -> str:
    if not isinstance(token, str) or not _PRINTABLE.fullmatch(token):
        raise InvalidArgument("push_token must be printable ASCII without spaces")
    return token


def registration(provider: str, token: Any) -> Registration:
    """``(provider, token)`` checked; an empty ``provider`` is inferred from the token (module docstring)."""
    if token in ("", None):
        return Registration("", "")
    if not provider:
        if isinstance(token, dict) or (isinstance(token, str) and token.startswith("{")):
            provider = "webpush"
        else:
            provider = "apns" if isinstance(token, str) and _APNS.fullmatch(token) else "fcm"
    if not isinstance(provider, str) or provider not in PROVIDERS:
        raise InvalidArgument(f"push_token: provider must be one of {', '.join(sorted(PROVIDERS))}")
    stored = _subscription(token) if provider == "webpush" else _opaque(token)
    if len(stored) > MAX_TOKEN_CHARS:
        raise InvalidArgument(f"push_token is longer than {MAX_TOKEN_CHARS} characters")
    return Registration(provider, stored)


@dataclasses.dataclass(frozen=True, slots=True)
class PushToken(Field):
    """``push_token``: a string, ``{provider, token}`` or a subscription object; parses to a
    :class:`Registration`."""

    kind: ClassVar[str] = "string | object"

    def convert(self, value: Any) -> Registration:
        if isinstance(value, dict) and "endpoint" not in value:
            return registration(value.get("provider") or "", value.get("token"))
        return registration("", value)

    def limits(self) -> str:
        return (f"a token (≤ {MAX_TOKEN_CHARS} chars; 64 hex: APNs, a subscription's JSON: Web Push, else FCM), "
                f"`{{provider, token}}` (provider one of {', '.join(sorted(PROVIDERS))}), or a Web Push "
                f"subscription `{{endpoint, keys: {{p256dh, auth}}}}`")

    def max_json_bytes(self) -> int:
        return 64 + MAX_TOKEN_CHARS * 2
