"""socket.io's JSON codec on the edge: orjson instead of the standard library's json. The edge encodes every
event it pushes and decodes every event it receives; the standard encoder was the edge's largest pure-Python
cost after the socket writes (bench/RESULTS.md)."""

from __future__ import annotations

import json
from typing import Any

import orjson


class OrjsonCodec:
    """The two functions python-socketio and python-engineio call (``json=`` of ``AsyncServer``)."""

    @staticmethod
    def dumps(obj: Any, **_options: Any) -> str:
        # The standard library's options (separators) only shape whitespace; orjson never emits any.
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()

    @staticmethod
    def loads(text: str | bytes) -> Any:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            # orjson refuses integers beyond 64 bits, which are valid JSON: the standard parser takes them (and the
            # contract then refuses the value with a clear error); truly invalid JSON still raises.
            return json.loads(text)
