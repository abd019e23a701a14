"""The status filter: ticks never move backwards, whatever order the events arrive in."""

from __future__ import annotations

from client.ticks import StatusFilter


def passed(events: list[tuple[int, str]], f: StatusFilter | None = None) -> list[tuple[int, str]]:
    f = f or StatusFilter()
    return [(mid, status) for mid, status in events if f.accept({"message_id": mid, "status": status})]


def test_read_then_a_late_delivered_shows_read_alone() -> None:
    assert passed([(1, "read"), (1, "delivered")]) == [(1, "read")]


def test_delivered_then_read_shows_both() -> None:
    assert passed([(1, "delivered"), (1, "read")]) == [(1, "delivered"), (1, "read")]


def test_repeats_are_not_passed_again() -> None:
    assert passed([(1, "sent"), (1, "sent"), (1, "delivered"), (1, "delivered")]) == [(1, "sent"), (1, "delivered")]


def test_messages_are_judged_separately() -> None:
    assert passed([(1, "read"), (2, "delivered"), (1, "delivered"), (2, "read")]) == [
        (1, "read"), (2, "delivered"), (2, "read")]


def test_failed_only_over_sent() -> None:
    assert passed([(1, "sent"), (1, "failed")]) == [(1, "sent"), (1, "failed")]
    assert passed([(2, "failed")]) == [(2, "failed")]
    assert passed([(3, "delivered"), (3, "failed")]) == [(3, "delivered")]
    assert passed([(4, "failed"), (4, "delivered")]) == [(4, "failed"), (4, "delivered")]


def test_unknown_events_pass_untouched() -> None:
    f = StatusFilter()
    assert f.accept({"message_id": 1, "status": "reacted"}) and f.accept({"message_id": 1, "status": "reacted"})
    assert f.accept({"status": "read"}) and f.accept("garbage")


def test_memory_is_bounded_oldest_first() -> None:
    f = StatusFilter(max_messages=2)
    passed([(1, "read"), (2, "read"), (3, "read")], f)
    assert passed([(1, "delivered"), (3, "delivered")], f) == [(1, "delivered")]  # 1 was forgotten, 3 was not
