"""Which browser origins may talk to the edge (``SWITCHBOARD_CORS_ALLOWED_ORIGINS``).

engine.io checks the ``Origin`` of every polling request and websocket upgrade that carries one (browsers
always send it; SDKs and backends do not) and refuses an origin it does not allow with 400. Empty, the default,
allows no browser origin at all: a web app's origin must be listed. ``*`` allows any origin but never with
credentials (cookies), and the opaque origin ``null`` (sandboxed frames, ``file:`` pages) is never allowed:
any page can produce it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

WILDCARD = "*"
OPAQUE = "null"


@dataclasses.dataclass(frozen=True)
class OriginPolicy:
    origins: frozenset[str]

    @classmethod
    def parse(cls, spec: str) -> OriginPolicy:
        origins = frozenset(o.strip().rstrip("/") for o in spec.split(",") if o.strip())
        if OPAQUE in origins:
            raise ValueError(f"SWITCHBOARD_CORS_ALLOWED_ORIGINS may not list {OPAQUE!r}: any page can send it")
        return cls(origins)

    @property
    def wildcard(self) -> bool:
        return WILDCARD in self.origins

    def allows(self, origin: str | None) -> bool:
        return bool(origin) and origin != OPAQUE and (self.wildcard or origin in self.origins)

    def engineio_options(self) -> dict[str, bool | Callable[[str | None], bool]]:
        """python-engineio's options: the check as a callable (so ``null`` is refused even under ``*``) and
        credentials only for an explicit list."""
        return {"cors_allowed_origins": self.allows, "cors_credentials": bool(self.origins) and not self.wildcard}
