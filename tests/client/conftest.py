"""SDK fixtures: SDK clients against the real system, with fresh user ids and fast retry settings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from client import AsyncWebSocketClient
from tests.support.system import System
from tests.support.users import new_user_id

FAST = {"retry_interval": 0.1, "max_retry_interval": 1.0, "heartbeat_interval": 1.0, "heartbeat_timeout": 2.0,
        "gap_timeout": 0.3, "send_timeout": 5.0}


class Recorder:
    """Collects what an SDK client's callbacks receive, by event name."""

    def __init__(self, client: AsyncWebSocketClient | Any) -> None:
        self.events: dict[str, list[Any]] = defaultdict(list)
        for name in ("connect", "disconnect", "message", "status_change", "message_status", "typing",
                     "session_updated", "kicked", "error", "send_failed", "message_sent"):
            getattr(client, f"on_{name}")(self._recorder(name))

    def _recorder(self, name: str) -> Callable[..., None]:
        def record(*args: Any) -> None:
            self.events[name].append(args[0] if len(args) == 1 else args)
        return record

    def texts(self) -> list[str]:
        return [m["text"] for m in self.events["message"]]


SdkFactory = Callable[..., Awaitable[tuple[AsyncWebSocketClient, Recorder]]]


@pytest.fixture
async def sdk(system: System) -> AsyncIterator[SdkFactory]:
    """``client, rec = await sdk(role="agent", node=1, **config)`` → a connected AsyncWebSocketClient."""
    made: list[AsyncWebSocketClient] = []

    async def make(role: str = "user", node: int = 0, user_id: int | None = None, system_: System | None = None,
                   connect: bool = True, device_id: str | None = None, **config: Any,
                   ) -> tuple[AsyncWebSocketClient, Recorder]:
        sys_ = system_ or system
        uid = user_id or new_user_id()
        client = AsyncWebSocketClient(sys_.edges[node].url, **{**FAST, **config})
        rec = Recorder(client)
        made.append(client)
        if connect:
            assert await client.connect(uid, sys_.token(uid, role), device_id=device_id, timeout=15)
        return client, rec

    yield make
    for client in made:
        await client.close()
