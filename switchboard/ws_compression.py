"""Which websocket compression the edge negotiates (``SWITCHBOARD_WS_COMPRESSION``).

uvicorn's websockets-sansio server offers permessage-deflate *with* context takeover to every client that asks
(every browser and socket.io-client do): each socket then keeps a zlib compressor and decompressor for its whole
life, and an idle socket cost 83.7 KiB of edge memory instead of 41.6 KiB (bench/RESULTS.md). uvicorn has no
option between that and off, so the edge hands it a protocol class whose handshake offers what was decided:

- ``no_context_takeover`` (the default): permessage-deflate with ``server_no_context_takeover`` and
  ``client_no_context_takeover``. websockets then builds the zlib state for one message and frees it after the
  message's last frame, so an idle socket holds none; large messages are still compressed (each on its own,
  which loses only what repeats *between* messages).
- ``off``: no extension; every message goes uncompressed.
- ``context_takeover``: uvicorn's own offer, kept to measure against.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.base import ServerExtensionFactory
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory

MODES = ("off", "no_context_takeover", "context_takeover")

# uvicorn's own choice: a 4 KiB window and memLevel 5 keep each zlib state small.
_WINDOW_BITS = 12
_COMPRESS_SETTINGS = {"memLevel": 5}


def extensions(mode: str) -> list[ServerExtensionFactory]:
    if mode == "off":
        return []
    free_between_messages = mode == "no_context_takeover"
    return [ServerPerMessageDeflateFactory(
        server_no_context_takeover=free_between_messages, client_no_context_takeover=free_between_messages,
        server_max_window_bits=_WINDOW_BITS, client_max_window_bits=_WINDOW_BITS,
        compress_settings=_COMPRESS_SETTINGS)]


def protocol(mode: str) -> type[asyncio.Protocol]:
    """uvicorn's websockets-sansio protocol, negotiating ``mode`` instead of its fixed deflate offer."""
    if mode not in MODES:
        raise ValueError(f"websocket compression must be one of {', '.join(MODES)}, not {mode!r}")

    class Negotiating(WebSocketsSansIOProtocol):
        offered: ClassVar[list[ServerExtensionFactory]] = extensions(mode)

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.conn.available_extensions = self.offered

    return Negotiating
