"""The connection states an application shows (a status dot in a desktop app, say)."""

from __future__ import annotations

import enum


class ConnectionStatus(enum.StrEnum):
    """``StrEnum`` so a status compares equal to its wire/log value (``status == "connected"``)."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    DISCONNECTED = "disconnected"
