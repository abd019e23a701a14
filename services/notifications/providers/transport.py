"""What the three providers share about talking HTTP to a push service: which answers are worth retrying and
when, the TLS trust, and the custom data every push carries, so each provider module is only its protocol."""

from __future__ import annotations

import email.utils
import math
import ssl
import time

from services.notifications.providers.base import Outcome, Push, Result


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (RFC 9110: delay-seconds or an HTTP date); None when absent or
    unreadable, so the pipeline falls back to its own backoff instead of trusting garbage."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def transient(status: int) -> bool:
    """429 and 5xx: the push service is busy or broken, not refusing this push."""
    return status == 429 or status >= 500


def retry(status: int, retry_after_header: str | None, reason: str = "") -> Result:
    return Result(Outcome.RETRY, retry_after(retry_after_header), f"{status} {reason}".strip())


def unreachable(exc: BaseException) -> Result:
    """A connection that failed or timed out says nothing about the push: try again later."""
    return Result(Outcome.RETRY, None, f"unreachable: {type(exc).__name__}")


def ssl_context(ca_file: str) -> ssl.SSLContext:
    """The system's trust store, or only ``ca_file`` when set (the tests' loopback peers)."""
    return ssl.create_default_context(cafile=ca_file or None)


def app_data(push: Push) -> dict[str, str]:
    """The keys an app reads from every push, on every provider (docs/push.md): what a tap opens, the unread
    count, and ``silent: "1"`` on a push that withdraws the session's notification. Strings only: FCM's data
    map allows nothing else."""
    data = {**push.data, "badge": str(push.badge)}
    if push.silent:
        data["silent"] = "1"
    return data
