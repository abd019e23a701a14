"""Message ticks only move forward: the highest status seen per message, and nothing older passed on.

The server announces each status change with ``message_status``, but not all through the same path: delivered
receipts are batched, read receipts are not, so a message's ``read`` can reach the sender before its
``delivered``. An app that draws each event would show ✓✓ blue, then ✓✓ grey. This filter keeps the highest
status per message (sent < delivered < read) and drops what is not a step forward, repeats included.
``failed`` is only believed over ``sent`` (or nothing): a message someone received or read did not fail.

Pure and single-threaded (it lives on the SDK's event loop). Memory is bounded: the oldest messages are
forgotten first; a late event for one of those is passed on (as before the filter existed).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

RANK = {"sent": 0, "failed": 0, "delivered": 1, "read": 2}


class StatusFilter:
    def __init__(self, max_messages: int = 20_000) -> None:
        self.max_messages = max_messages
        self._highest: OrderedDict[Any, str] = OrderedDict()

    def accept(self, event: Any) -> bool:
        """Whether to pass this ``message_status`` event on; remembers it if so. Events without a message id
        or with a status this SDK does not know are passed on untouched."""
        if not isinstance(event, dict):
            return True
        message_id, status = event.get("message_id"), event.get("status")
        if message_id is None or status not in RANK:
            return True
        current = self._highest.get(message_id)
        if current is not None and not self._forward(current, status):
            return False
        self._highest[message_id] = status
        self._highest.move_to_end(message_id)
        while len(self._highest) > self.max_messages:
            self._highest.popitem(last=False)
        return True

    @staticmethod
    def _forward(current: str, status: str) -> bool:
        if status == "failed":
            return current == "sent"
        return RANK[status] > RANK[current]
