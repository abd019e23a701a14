"""Errors the SDK raises or reports, keyed by the server's stable error codes.

The server answers every event with ``{"success": false, "error": {"code", "message"}}`` on failure; the SDK
turns that into :class:`RequestError` (one subclass per code an application is likely to branch on) so callers
can ``except Forbidden`` rather than compare strings.
"""

from __future__ import annotations

from typing import Any, ClassVar


class SDKError(Exception):
    """Base of everything the SDK raises, so an application can catch the SDK's failures in one place."""


class QueueFullError(SDKError):
    """The outbox holds ``max_queue_size`` unacknowledged messages; the new one was not accepted.

    Raised instead of dropping anything, so the application decides (show "offline", wait, or give up).
    """


class NotConnectedError(SDKError):
    """A request needs a live, registered connection and none came up within the request's timeout."""


class ConnectionLostError(NotConnectedError):
    """The connection dropped while a request waited for its answer; the outcome on the server is unknown."""


class ClientClosedError(SDKError):
    """The client was disconnected by the application (or kicked) and does not reconnect."""


class RequestError(SDKError):
    """The server refused a request. ``code`` is one of the server's error codes."""

    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str = "", code: str | None = None, reply: dict[str, Any] | None = None) -> None:
        if code is not None:
            self.code = code  # type: ignore[misc]  # instance override for codes without a subclass
        self.message = message
        self.reply = reply or {}
        super().__init__(f"{self.code}: {message}" if message else self.code)


class Unauthenticated(RequestError):
    code = "UNAUTHENTICATED"


class NotRegistered(RequestError):
    code = "NOT_REGISTERED"


class Forbidden(RequestError):
    code = "FORBIDDEN"


class InvalidArgument(RequestError):
    code = "INVALID_ARGUMENT"


class NotFound(RequestError):
    code = "NOT_FOUND"


class RateLimited(RequestError):
    code = "RATE_LIMITED"


class LimitExceeded(RequestError):
    code = "LIMIT_EXCEEDED"


class Unavailable(RequestError):
    code = "UNAVAILABLE"


_BY_CODE: dict[str, type[RequestError]] = {
    cls.code: cls
    for cls in (Unauthenticated, NotRegistered, Forbidden, InvalidArgument, NotFound, RateLimited,
                LimitExceeded, Unavailable)
}


def error_from_reply(reply: Any) -> RequestError:
    """The exception for a failed reply; tolerant of malformed replies (they become ``INTERNAL``)."""
    error = reply.get("error") if isinstance(reply, dict) else None
    if not isinstance(error, dict):
        return RequestError(f"malformed reply: {reply!r}", code="INTERNAL", reply=reply if isinstance(reply, dict)
                            else None)
    code = str(error.get("code") or "INTERNAL")
    message = str(error.get("message") or "")
    cls = _BY_CODE.get(code)
    return cls(message, reply=reply) if cls else RequestError(message, code=code, reply=reply)


class SendFailedError(SDKError):
    """A queued message was refused for good (``FORBIDDEN``, ``INVALID_ARGUMENT``…) and left the outbox."""

    def __init__(self, client_msg_id: str, cause: RequestError) -> None:
        self.client_msg_id, self.cause = client_msg_id, cause
        super().__init__(f"message {client_msg_id} refused: {cause}")
