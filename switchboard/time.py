"""Timestamps on the wire: ISO 8601, UTC, millisecond precision, ``Z`` suffix."""

from __future__ import annotations

import datetime as dt


def iso(value: dt.datetime) -> str:
    """Format a datetime; naive values are UTC (MySQL ``TIMESTAMP`` columns come back naive in UTC when the
    session time zone is UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def utc_now_iso() -> str:
    return iso(dt.datetime.now(dt.UTC))
