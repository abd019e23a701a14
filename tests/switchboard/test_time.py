"""Wire timestamps: ISO 8601 in UTC with milliseconds and a ``Z``, whatever the input's zone."""

from __future__ import annotations

import datetime as dt

from switchboard.time import iso, iso_epoch


def test_naive_values_are_utc_and_sub_milliseconds_are_truncated() -> None:
    assert iso(dt.datetime(2026, 1, 2, 3, 4, 5, 678_901)) == "2026-01-02T03:04:05.678Z"
    assert iso(dt.datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"


def test_aware_values_are_converted_to_utc() -> None:
    beijing = dt.timezone(dt.timedelta(hours=8))
    assert iso(dt.datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=beijing)) == "2026-01-01T19:04:05.999Z"


def test_epochs_and_missing_values() -> None:
    assert iso_epoch(1_700_000_000.25) == "2023-11-14T22:13:20.250Z"
    assert iso(None) == ""
