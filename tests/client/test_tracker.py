"""Dedup by message id and per-session ordering by sequence number."""

from __future__ import annotations

from client.tracker import SequenceTracker


def msg(mid: int, seq: int | None, session: str = "s1") -> dict:
    return {"id": mid, "session_id": session, "sequence_number": seq, "text": f"t{mid}"}


def ids(messages: list[dict]) -> list[int]:
    return [m["id"] for m in messages]


def test_first_message_of_an_unknown_session_is_the_baseline() -> None:
    t = SequenceTracker()
    assert ids(t.receive(msg(10, 5)).deliver) == [10]
    assert ids(t.receive(msg(11, 6)).deliver) == [11]
    assert t.last("s1") == 6


def test_duplicate_ids_are_reported_not_delivered() -> None:
    t = SequenceTracker()
    t.receive(msg(1, 1))
    again = t.receive(msg(1, 1))
    assert again.duplicate and again.deliver == []


def test_a_gap_holds_later_messages_until_filled() -> None:
    t = SequenceTracker()
    t.baseline("s1", 0)
    assert ids(t.receive(msg(1, 1)).deliver) == [1]
    r = t.receive(msg(3, 3))
    assert r.gap and r.deliver == []
    r = t.receive(msg(4, 4))
    assert r.gap and r.deliver == []
    assert t.has_gap("s1")
    assert ids(t.receive(msg(2, 2)).deliver) == [2, 3, 4]
    assert not t.has_gap("s1") and t.last("s1") == 4


def test_own_messages_occupy_their_slot() -> None:
    t = SequenceTracker()
    t.baseline("s1", 0)
    t.receive(msg(1, 1))
    assert t.own_sent("s1", 2, 2).deliver == []
    assert ids(t.receive(msg(3, 3)).deliver) == [3]
    # our message acked before the other side's earlier message was pushed to us
    r = t.own_sent("s1", 5, 5)
    assert r.gap
    assert ids(t.receive(msg(4, 4)).deliver) == [4]
    assert t.last("s1") == 5 and not t.has_gap("s1")


def test_own_message_in_unknown_session_sets_no_watermark() -> None:
    t = SequenceTracker()
    assert not t.own_sent("s1", 7, 7).gap
    assert ids(t.receive(msg(5, 5)).deliver) == [5]  # not mistaken for an old message


def test_synced_own_message_is_a_duplicate() -> None:
    t = SequenceTracker()
    t.baseline("s1", 0)
    t.own_sent("s1", 1, 1)
    assert t.receive(msg(1, 1)).duplicate


def test_release_skips_a_hole_that_cannot_be_filled() -> None:
    t = SequenceTracker()
    t.baseline("s1", 0)
    t.receive(msg(3, 3))
    t.own_sent("s1", 4, 4)
    t.receive(msg(5, 5))
    assert ids(t.release("s1")) == [3, 5]
    assert t.last("s1") == 5
    assert ids(t.receive(msg(6, 6)).deliver) == [6]


def test_sessions_are_independent() -> None:
    t = SequenceTracker()
    t.baseline("a", 0)
    t.baseline("b", 0)
    assert t.receive(msg(2, 2, "a")).gap
    assert ids(t.receive(msg(10, 1, "b")).deliver) == [10]
    assert t.gaps() == ["a"]


def test_unsequenced_messages_pass_straight_through() -> None:
    t = SequenceTracker()
    assert ids(t.receive(msg(1, None)).deliver) == [1]
    assert ids(t.receive({"id": 2, "session_id": None, "sequence_number": 3}).deliver) == [2]


def test_forgotten_old_id_behind_the_watermark_is_passed_on_not_lost() -> None:
    t = SequenceTracker(max_seen=2)
    t.baseline("s1", 0)
    for n in range(1, 5):
        t.receive(msg(n, n))
    r = t.receive(msg(1, 1))  # id 1 fell out of the window
    assert ids(r.deliver) == [1]


def test_a_repeat_of_a_message_shown_before_fills_its_slot() -> None:
    """After a restart the dedup memory may know ids past the watermark: their repeats release what waits."""
    t = SequenceTracker()
    t.restore([5, 6], {"s1": 4})
    held = t.receive(msg(8, 8))
    assert held.gap and held.deliver == []
    assert t.receive(msg(5, 5)).duplicate
    assert t.receive(msg(7, 7)).deliver == []  # 6 is still missing
    again = t.receive(msg(6, 6))
    assert again.duplicate and ids(again.deliver) == [7, 8]
    assert t.last("s1") == 8 and not t.has_gap("s1")


def test_a_repeat_of_a_held_message_keeps_it_held() -> None:
    t = SequenceTracker()
    t.baseline("s1", 0)
    t.receive(msg(3, 3))
    assert t.receive(msg(3, 3)).duplicate and t.waiting("s1", 3)
    assert t.receive(msg(2, 2)).gap
    assert ids(t.receive(msg(1, 1)).deliver) == [1, 2, 3]


def test_restored_watermarks_hold_a_live_push_until_the_backlog_arrives() -> None:
    t = SequenceTracker()
    t.restore([94], {"s1": 94})
    assert t.receive(msg(99, 99)).gap
    assert [ids(t.receive(msg(i, i)).deliver) for i in (95, 96, 97, 98)] == [[95], [96], [97], [98, 99]]
    assert t.receive(msg(94, 94)).duplicate
