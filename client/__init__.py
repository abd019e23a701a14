"""Switchboard's Python client SDK. See docs/sdk.md.

``from client import WebSocketClient`` (threads, blocking) or ``AsyncWebSocketClient`` (asyncio).
"""

from client import websocket_client as _public
from client.websocket_client import *  # noqa: F403 - the public API, listed once in websocket_client.__all__

__all__ = _public.__all__
