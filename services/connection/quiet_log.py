"""Logging for what hostile clients cause. Every malformed packet used to write a multi-line ERROR traceback
(1,000 seven-byte packets → 1.37 MB of log in 0.04 s): a client could fill a disk and drown real errors. Here a
record is one line, its traceback dropped, and at most ``burst`` records per ``interval`` pass per logger; the
rest are counted and the count is reported with the next record that passes."""

from __future__ import annotations

import logging
import time

from prometheus_client import Counter

SUPPRESSED = Counter("switchboard_edge_log_suppressed_total", "Transport log records dropped by the rate limit")

_MAX_MESSAGE = 300


class OneLineRateLimit(logging.Filter):
    def __init__(self, burst: int = 10, interval: float = 10.0) -> None:
        super().__init__()
        self._burst, self._interval = burst, interval
        self._window_start, self._passed, self._dropped = 0.0, 0, 0

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if now - self._window_start >= self._interval:
            self._window_start, self._passed = now, 0
        if self._passed >= self._burst:
            self._dropped += 1
            SUPPRESSED.inc()
            return False
        self._passed += 1
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message}: {record.exc_info[1]!r}"
        if self._dropped:
            message, self._dropped = f"{message} ({self._dropped} similar records suppressed)", 0
        record.msg, record.args = message[:_MAX_MESSAGE], None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_logger(name: str) -> logging.Logger:
    """A logger for the transport libraries (python-socketio, python-engineio): warnings and errors only, one
    line each, rate-limited."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, OneLineRateLimit) for f in logger.filters):
        logger.addFilter(OneLineRateLimit())
    return logger
