"""A hostile client: engine.io / socket.io spoken by hand over a raw websocket, so a test can send what no well-
behaved client library would (reserved event names, malformed packets, oversized frames) and stop reading."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psutil
import websockets
from websockets.exceptions import ConnectionClosed


class RawSocket:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._ack_ids = iter(range(1, 1 << 30))

    @classmethod
    async def open(cls, ws_url: str, *, max_queue: int = 16, compression: str | None = None,
                   **options: Any) -> RawSocket:
        """The engine.io handshake only (the server's ``0{...}`` open packet read). ``max_queue``: frames the
        client library reads ahead before it stops reading the socket; ``compression="deflate"`` offers
        permessage-deflate as browsers do."""
        ws = await websockets.connect(ws_url, max_size=None, max_queue=max_queue, compression=compression,
                                      **options)
        opened = await ws.recv()
        assert opened.startswith("0"), opened
        return cls(ws)

    async def join(self, auth: dict[str, Any] | None = None) -> str | dict[str, Any]:
        """socket.io CONNECT; the server's CONNECT (its sid) or CONNECT_ERROR data."""
        await self.ws.send("40" + (json.dumps(auth) if auth else ""))
        while True:
            packet = await self.recv()
            if packet.startswith("40"):
                return json.loads(packet[2:])["sid"]
            if packet.startswith("44"):
                return json.loads(packet[2:])

    async def recv(self, timeout: float = 10) -> str:
        """The next packet, answering engine.io pings on the way."""
        while True:
            packet = await asyncio.wait_for(self.ws.recv(), timeout)
            if packet == "2":
                await self.ws.send("3")
                continue
            return packet

    async def emit(self, event: str, *args: Any, ack: bool = True) -> int | None:
        ack_id = next(self._ack_ids) if ack else None
        await self.ws.send(f"42{ack_id if ack_id is not None else ''}" + json.dumps([event, *args]))
        return ack_id

    async def call(self, event: str, *args: Any, timeout: float = 10) -> Any:
        ack_id = await self.emit(event, *args)
        prefix = f"43{ack_id}"
        while True:
            packet = await self.recv(timeout)
            if packet.startswith(prefix) and packet[len(prefix)] == "[":
                return json.loads(packet[len(prefix):])[0]

    async def register(self, user_id: int, token: str, device_id: str = "raw") -> dict[str, Any]:
        return await self.call("register", {"user_id": user_id, "token": token, "device_id": device_id})

    async def closed(self, timeout: float = 20) -> bool:
        """Read until the server closes the connection; True when it did."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    await self.ws.recv()
        except ConnectionClosed:
            return True
        except TimeoutError:
            return False

    async def close(self) -> None:
        await self.ws.close()


def rss_mib(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / (1 << 20)
