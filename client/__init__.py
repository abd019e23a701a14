"""Switchboard's Python client SDK. See docs/sdk.md.

``from client import WebSocketClient`` (threads, blocking) or ``AsyncWebSocketClient`` (asyncio).
"""

from client.websocket_client import (
    AsyncWebSocketClient,
    ClientClosedError,
    ConnectionLostError,
    ConnectionStatus,
    NotConnectedError,
    QueueFullError,
    RequestError,
    SDKError,
    SendFailedError,
    SendHandle,
    WebSocketClient,
)

__all__ = [
    "AsyncWebSocketClient",
    "ClientClosedError",
    "ConnectionLostError",
    "ConnectionStatus",
    "NotConnectedError",
    "QueueFullError",
    "RequestError",
    "SDKError",
    "SendFailedError",
    "SendHandle",
    "WebSocketClient",
]
