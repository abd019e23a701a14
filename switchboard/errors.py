"""One error hierarchy with stable codes.

Every failure a caller can act on is a :class:`SwitchboardError`. It is mapped once to a socket.io reply
(:meth:`SwitchboardError.to_reply`) and once to a gRPC status (:mod:`switchboard.grpc`), and a gRPC status coming
back is mapped to the same class (:func:`from_grpc`), so a ``FORBIDDEN`` raised in the messaging service reaches
the socket as ``FORBIDDEN``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import grpc


class SwitchboardError(Exception):
    code: ClassVar[str] = "INTERNAL"
    grpc_status: ClassVar[grpc.StatusCode] = grpc.StatusCode.INTERNAL
    default_message: ClassVar[str] = "internal error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def to_reply(self) -> dict[str, Any]:
        return {"success": False, "error": {"code": self.code, "message": self.message}}


class Unauthenticated(SwitchboardError):
    """No usable token. ``reason`` tells a client what to do: ``TOKEN_EXPIRED`` — get a fresh token and
    ``register`` with it (the socket stays open); ``TOKEN_INVALID`` / ``TOKEN_MISSING`` — do not retry as is."""

    code = "UNAUTHENTICATED"
    grpc_status = grpc.StatusCode.UNAUTHENTICATED
    default_message = "a valid token is required"

    def __init__(self, message: str | None = None, reason: str = "TOKEN_MISSING") -> None:
        super().__init__(message)
        self.reason = reason

    def to_reply(self) -> dict[str, Any]:
        return {"success": False, "error": {"code": self.code, "reason": self.reason, "message": self.message}}


class NotRegistered(SwitchboardError):
    code = "NOT_REGISTERED"
    grpc_status = grpc.StatusCode.FAILED_PRECONDITION
    default_message = "register this socket first"


class Forbidden(SwitchboardError):
    code = "FORBIDDEN"
    grpc_status = grpc.StatusCode.PERMISSION_DENIED
    default_message = "not allowed"


class InvalidArgument(SwitchboardError):
    code = "INVALID_ARGUMENT"
    grpc_status = grpc.StatusCode.INVALID_ARGUMENT
    default_message = "invalid argument"


class NotFound(SwitchboardError):
    code = "NOT_FOUND"
    grpc_status = grpc.StatusCode.NOT_FOUND
    default_message = "not found"


class RateLimited(SwitchboardError):
    code = "RATE_LIMITED"
    grpc_status = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_message = "too many requests"


class LimitExceeded(SwitchboardError):
    """A configured cap (devices per user, sockets per device) is reached."""

    code = "LIMIT_EXCEEDED"
    grpc_status = grpc.StatusCode.RESOURCE_EXHAUSTED
    default_message = "limit exceeded"


class PayloadTooLarge(SwitchboardError):
    """A packet larger than its event's largest legal payload (the contract's limits)."""

    code = "PAYLOAD_TOO_LARGE"
    grpc_status = grpc.StatusCode.INVALID_ARGUMENT
    default_message = "payload too large"


class Unavailable(SwitchboardError):
    code = "UNAVAILABLE"
    grpc_status = grpc.StatusCode.UNAVAILABLE
    default_message = "service unavailable, retry later"


class Internal(SwitchboardError):
    pass


ERRORS_BY_CODE: dict[str, type[SwitchboardError]] = {
    cls.code: cls
    for cls in (
        Unauthenticated, NotRegistered, Forbidden, InvalidArgument, NotFound,
        RateLimited, LimitExceeded, PayloadTooLarge, Unavailable, Internal,
    )
}

# gRPC trailing metadata key carrying the stable code, because several codes share one gRPC status.
CODE_METADATA_KEY = "sb-error-code"

_BY_GRPC_STATUS: dict[grpc.StatusCode, type[SwitchboardError]] = {
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.FAILED_PRECONDITION: NotRegistered,
    grpc.StatusCode.PERMISSION_DENIED: Forbidden,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RateLimited,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: Unavailable,
    grpc.StatusCode.CANCELLED: Unavailable,
}


def from_grpc(error: grpc.aio.AioRpcError) -> SwitchboardError:
    """Rebuild the error a peer service raised, preferring the stable code it sent in trailing metadata."""
    code = None
    for key, value in error.trailing_metadata() or ():
        if key == CODE_METADATA_KEY:
            code = value
    cls = ERRORS_BY_CODE.get(code or "") or _BY_GRPC_STATUS.get(error.code(), Internal)
    return cls(error.details() or cls.default_message)
