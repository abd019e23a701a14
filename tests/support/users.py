"""A socket.io user as a front-end would be: the standard python-socketio client over a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections import defaultdict
from typing import Any

import aiohttp
import socketio

# One sequence of user ids for the whole test run: the devices service binds an id to the role it first
# registered with, so two modules drawing the same id as a customer and as an agent would refuse each other.
# Ids below this are free for tests that spell theirs out.
_user_ids = itertools.count(100_000)


def new_user_id() -> int:
    """A user id no other test of this run uses."""
    return next(_user_ids)


DEFAULT_DEVICE_INFO = {
    "device_name": "Test device", "device_type": "desktop", "platform": "Linux",
    "browser": "pytest", "os_version": "1", "app_version": "0.0.1",
}


class SocketUser:
    """Connects to an edge, registers, and records every event the server pushes, by name. ``source_address``
    (any 127/8 address) makes its connections come from there: clients a load balancer can tell apart."""

    def __init__(self, url: str, user_id: int, token: str, device_id: str | None = None,
                 source_address: str | None = None) -> None:
        self.url, self.user_id, self.token = url, user_id, token
        self.device_id = device_id or f"dev-{uuid.uuid4().hex[:8]}"
        self.connection_id = str(uuid.uuid4())
        self._http = (aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source_address, 0)))
                      if source_address else None)
        self.sio = socketio.AsyncClient(reconnection=False, http_session=self._http)
        self.events: dict[str, list[Any]] = defaultdict(list)
        self._arrived = asyncio.Condition()
        self.sio.on("*", self._record)

    async def _record(self, event: str, data: Any = None) -> None:
        async with self._arrived:
            self.events[event].append(data)
            self._arrived.notify_all()

    async def connect(self, auth: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
                      transports: tuple[str, ...] = ("websocket",)) -> dict[str, Any]:
        """Connect and return the server's ``connected`` event."""
        await self.sio.connect(self.url, transports=list(transports), auth=auth, headers=headers or {},
                               wait_timeout=10)
        return await self.wait_for("connected")

    async def register(self, **overrides: Any) -> dict[str, Any]:
        payload = {"user_id": self.user_id, "token": self.token, "connection_id": self.connection_id,
                   "device_id": self.device_id, "device_info": DEFAULT_DEVICE_INFO, **overrides}
        return await self.call("register", payload)

    async def join(self, transports: tuple[str, ...] = ("websocket",), **register_overrides: Any) -> SocketUser:
        """Connect and register; fail loudly if either does not succeed."""
        await self.connect(transports=transports)
        reply = await self.register(**register_overrides)
        assert reply.get("success"), reply
        return self

    async def call(self, event: str, data: Any = None, timeout: float = 10) -> Any:
        return await self.sio.call(event, data, timeout=timeout)

    async def wait_for(self, event: str, count: int = 1, timeout: float = 10) -> Any:
        """Wait until ``count`` events of this name arrived; return the last one (all, when count > 1)."""
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.events[event]) >= count), timeout)
        return self.events[event][:count] if count > 1 else self.events[event][count - 1]

    async def close(self) -> None:
        if self.sio.connected and self.sio.transport() == "polling":
            # python-engineio's server takes a client's CLOSE without ending the poll it holds, and its client waits
            # for that poll (answered at the next ping, 25 s later): the DISCONNECT and CLOSE are sent, the held poll
            # is not waited for.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.sio.disconnect(), 0.5)
        elif self.sio.connected:
            await self.sio.disconnect()
        if self._http is not None:
            await self._http.close()


async def open_conversation(customer: SocketUser, agent: SocketUser) -> str:
    """The customer opens a session and the agent joins it; returns the session id."""
    opened = await customer.call("open_session", {})
    assert opened["success"], opened
    joined = await agent.call("join_session", {"session_id": opened["session_id"]})
    assert joined["success"], joined
    return opened["session_id"]
