"""Who may call which RPC: callers, their credentials, and the check the gRPC servers make on every call.

A caller is identified by the common name of its verified client certificate (mutual TLS) or, on a service's
token port (server-authenticated TLS, for outside backends that cannot do mutual TLS), by the bearer token it
sends (``authorization: Bearer <token>``). The built-in callers are ``edge`` (every RPC but
``ListPushDevices``, ``ClearPushToken`` and ``RegistryStats``), ``messaging`` (``GetPresence``, for its delivery
sweep, and ``GetUserRole``, for a transfer's target), ``notifications`` (``ListDevices``, ``ListPushDevices``,
``ClearPushToken``) and ``operator`` (the operator tools: sessions, history, devices, kicks, system messages,
``RegistryStats``);
outside backends come from the callers file, each with the public methods it may call. Which RPC is internal
is declared once, in :mod:`switchboard.contract.rpcs`.

The callers file (JSON, ``SWITCHBOARD_GRPC_CALLERS_FILE``) maps a backend's name to its methods and, for token
callers, the SHA-256 (hex) of its token, so the file itself holds no credential::

    {"crm": {"methods": ["SendSystemMessage", "GetSession"], "token_sha256": "9f86d0…"},
     "reports": {"methods": ["SyncHistory"]}}

``reports`` above has no token: it calls with a client certificate whose common name is ``reports``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import grpc

from switchboard.contract.rpcs import BACKEND, EDGE, MESSAGING, NOTIFICATIONS, OPERATOR, RPCS
from switchboard.errors import Forbidden, Unauthenticated

Guard = Callable[[grpc.aio.ServicerContext], None]

_CN = "x509_common_name"
_BEARER = "bearer "


@dataclasses.dataclass(frozen=True)
class Caller:
    name: str
    methods: frozenset[str]
    token_sha256: str = ""


def _of_kind(kind: str) -> frozenset[str]:
    return frozenset(name for name, rpc in RPCS.items() if kind in rpc.callers)


BUILTIN = (Caller(EDGE, _of_kind(EDGE)), Caller(MESSAGING, _of_kind(MESSAGING)),
           Caller(NOTIFICATIONS, _of_kind(NOTIFICATIONS)), Caller(OPERATOR, _of_kind(OPERATOR)))


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def backend(name: str, methods: Iterable[str], token_sha256: str = "") -> Caller:
    """An outside backend, refused at start-up if it names an unknown or internal method or a built-in name."""
    if name in {c.name for c in BUILTIN}:
        raise ValueError(f"gRPC caller {name!r}: the name is reserved for the service of that name")
    methods = frozenset(methods)
    if unknown := sorted(methods - RPCS.keys()):
        raise ValueError(f"gRPC caller {name!r}: no such RPC {', '.join(unknown)}")
    if internal := sorted(m for m in methods if BACKEND not in RPCS[m].callers):
        raise ValueError(f"gRPC caller {name!r}: {', '.join(internal)} is internal (edges only)")
    return Caller(name, methods, token_sha256.lower())


def load(path: str) -> tuple[Caller, ...]:
    """The built-in callers plus the backends of the callers file at ``path`` (none if empty)."""
    entries = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    return (*BUILTIN, *(backend(name, e.get("methods", ()), e.get("token_sha256", "")) for name, e in entries.items()))


class Authorizer:
    """Builds one guard per method at start-up; a call then costs reading its peer's certificate name (or its
    token) and one set lookup."""

    def __init__(self, callers: Iterable[Caller]) -> None:
        self._callers = tuple(callers)
        self._by_token = {c.token_sha256: c.name for c in self._callers if c.token_sha256}

    def identify(self, context: grpc.aio.ServicerContext) -> str | None:
        """The certificate's common name (mutual TLS) or the name the bearer token belongs to; None if neither."""
        names = context.auth_context().get(_CN)
        if names:
            return names[0].decode()
        for key, value in context.invocation_metadata() or ():
            if key == "authorization" and value[:len(_BEARER)].lower() == _BEARER:
                return self._by_token.get(token_digest(value[len(_BEARER):].strip()))
        return None

    def guard(self, method: str) -> Guard:
        """Raises ``UNAUTHENTICATED`` for a call without credentials, ``FORBIDDEN`` (PERMISSION_DENIED) for a
        caller ``method`` is not open to. An RPC the contract does not declare fails here, at start-up."""
        if method not in RPCS:
            raise KeyError(f"{method} is not declared in switchboard/contract/rpcs.py")
        allowed = frozenset(c.name for c in self._callers if method in c.methods)
        identify = self.identify

        def check(context: grpc.aio.ServicerContext) -> None:
            caller = identify(context)
            if caller is None:
                raise Unauthenticated("a client certificate or a bearer token of a known caller is required")
            if caller not in allowed:
                raise Forbidden(f"{caller} may not call {method}")

        return check
