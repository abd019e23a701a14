"""Dedup and per-session ordering of incoming messages.

The server delivers at least once (offline pushes repeat until a device acknowledges; a live push can race a
``sync``), so the SDK filters by message id. It also orders: messages carry a gap-free ``sequence_number`` per
session, so a message that arrives ahead of its predecessor is held back until the gap is filled (by the
late push or by ``sync``) and every callback sees each session in order.

Pure and single-threaded (it lives on the SDK's event loop); the core decides when to sync.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from typing import Any

log = logging.getLogger(__name__)

Message = dict[str, Any]


@dataclasses.dataclass
class Received:
    """The verdict on one incoming message."""

    deliver: list[Message]  # pass these on now, in this order
    duplicate: bool = False  # seen before: acknowledge again, do not pass on
    gap: bool = False  # the session has a hole before a held-back message; sync to fill it


@dataclasses.dataclass
class _Session:
    last: int | None = None  # every sequence ≤ last was handled (passed on, or our own)
    held: dict[int, Message | None] = dataclasses.field(default_factory=dict)  # None: our own message


class SequenceTracker:
    """``max_seen`` bounds the remembered ids. A message whose id fell out of that window and arrives again is
    passed on again (see :meth:`receive`): a rare duplicate is preferred to a lost message."""

    def __init__(self, max_seen: int = 20_000) -> None:
        self.max_seen = max_seen
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._sessions: dict[str, _Session] = {}

    # -- ids -----------------------------------------------------------------------------------------------

    def seen(self, message_id: Any) -> bool:
        return message_id is not None and message_id in self._seen

    def _mark(self, message_id: Any) -> None:
        if message_id is None:
            return
        self._seen[message_id] = None
        self._seen.move_to_end(message_id)
        while len(self._seen) > self.max_seen:
            self._seen.popitem(last=False)

    # -- sessions ------------------------------------------------------------------------------------------

    def last(self, session_id: str) -> int | None:
        state = self._sessions.get(session_id)
        return state.last if state else None

    def has_gap(self, session_id: str) -> bool:
        state = self._sessions.get(session_id)
        return bool(state and state.held)

    def gaps(self) -> list[str]:
        return [sid for sid, state in self._sessions.items() if state.held]

    def known(self) -> list[str]:
        """Sessions with a watermark: the ones a reconnect catches up on."""
        return [sid for sid, state in self._sessions.items() if state.last is not None]

    def baseline(self, session_id: str, last_sequence: int) -> None:
        """We know everything up to ``last_sequence`` is history (a session we just opened: 0; a join reply
        that names the session's last sequence). Only sets a watermark the tracker does not have yet."""
        state = self._sessions.setdefault(session_id, _Session())
        if state.last is None:
            state.last = last_sequence

    def receive(self, msg: Message) -> Received:
        """Judge one ``new_message`` (live, offline or from ``sync``)."""
        message_id, session_id = msg.get("id"), msg.get("session_id")
        seq = msg.get("sequence_number")
        if self.seen(message_id):
            # Shown before (by this process, or by the previous one: see restore): not again, but it still
            # fills its slot, so the watermark can move past it and release what waits behind it.
            verdict = self._occupy(session_id, seq) if seq and session_id else Received([])
            return dataclasses.replace(verdict, duplicate=True)
        self._mark(message_id)
        if not seq or not session_id:
            return Received([msg])  # unsequenced (a system notice): nothing to order against
        state = self._sessions.setdefault(session_id, _Session())
        if state.last is None:
            # First message of a session we know nothing about: it is the baseline. Messages before it are
            # history the application can fetch with sync().
            state.last = seq
            return Received([msg, *self._drain(state)])
        if seq <= state.last:
            # Behind the watermark but never seen (its id fell out of the window, or it precedes a baseline we
            # guessed): pass it on late rather than lose it.
            log.debug("late message %s seq %s in %s (last %s)", message_id, seq, session_id, state.last)
            return Received([msg])
        if seq == state.last + 1:
            state.last = seq
            return Received([msg, *self._drain(state)])
        state.held[seq] = msg
        return Received([], gap=True)

    def own_sent(self, session_id: str, message_id: Any, seq: int | None) -> Received:
        """Our own message was stored with ``seq``: it occupies that slot (it is never pushed back to us)."""
        self._mark(message_id)
        return self._occupy(session_id, seq)

    def restore(self, seen: list[Any], watermarks: dict[str, int]) -> None:
        """Take over what an earlier run of the app was shown (:mod:`client.memory`): its ids, oldest first,
        and per session the last sequence it handled. A watermark only moves forward."""
        for message_id in seen:
            self._mark(message_id)
        for session_id, last in watermarks.items():
            state = self._sessions.setdefault(session_id, _Session())
            state.last = last if state.last is None else max(state.last, last)

    def _occupy(self, session_id: str, seq: int | None) -> Received:
        """A message that takes its slot without being passed on (our own, or one shown before)."""
        state = self._sessions.get(session_id)
        if not seq or state is None or state.last is None or seq <= state.last:
            # Unknown session: do not guess a watermark from a message not passed on, or pushes of earlier
            # messages (the other side's, still in flight) would look "late".
            return Received([])
        if seq == state.last + 1:
            state.last = seq
            return Received(self._drain(state))
        state.held.setdefault(seq, None)  # a held message of that slot stays held (a repeat of it came)
        return Received([], gap=True)

    def waiting(self, session_id: Any, seq: Any) -> bool:
        """Whether a message of that slot is held back, not yet passed on."""
        state = self._sessions.get(session_id)
        return state is not None and state.held.get(seq) is not None

    def release(self, session_id: str) -> list[Message]:
        """Give up on a gap that sync could not fill: pass the held messages on in order, skipping the hole."""
        state = self._sessions.get(session_id)
        if not state or not state.held:
            return []
        out = [state.held[seq] for seq in sorted(state.held)]
        state.last = max(state.held)
        state.held.clear()
        return [m for m in out if m is not None]

    def _drain(self, state: _Session) -> list[Message]:
        out: list[Message] = []
        assert state.last is not None
        while state.last + 1 in state.held:
            state.last += 1
            msg = state.held.pop(state.last)
            if msg is not None:
                out.append(msg)
        return out
