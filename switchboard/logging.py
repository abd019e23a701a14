"""Structured logging: one JSON object per line (or readable text for humans), with the service name."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime", "taskName"}
# A JWT (base64url of '{"', then two more segments): whatever path it took into a line, it never leaves it.
_JWT = re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*")
_QUERY = re.compile(r'\?[^\s"]*')


class Redact(logging.Filter):
    """No token and no query string in any log line. uvicorn logs every websocket upgrade with its URL at INFO,
    and clients may pass a token in the query string: request lines of the server's loggers lose their query
    strings; anything shaped like a JWT is masked in every line."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler reports it as it would without this filter
            return True
        if record.name.startswith("uvicorn"):
            message = _QUERY.sub("", message)
        record.msg, record.args = _JWT.sub("[redacted]", message), ()
        return True



class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup(service: str, level: str = "INFO", fmt: str = "json") -> None:
    """Configure the root logger once per process. Extra fields: ``log.info("sent", extra={"user_id": 1})``."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter(service))
    else:
        handler.setFormatter(logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redact())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("sanic.access", "engineio.server", "socketio.server", "aiomysql"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
