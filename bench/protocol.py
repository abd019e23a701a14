"""A lean Socket.IO v5 / Engine.IO v4 client over websockets' Sans-I/O protocol on a raw asyncio transport.

Why not ``socketio.AsyncClient``: the load generator must cost much less per message than the server it drives,
on the same two cores. The standard client runs a task per event and a writer task per packet; this one parses
frames synchronously inside ``data_received`` and writes with ``transport.write`` — no task, no lock, no await
per message. It speaks only what the bench needs: websocket transport, text packets, the default namespace,
events (``42``), acks (``43``), calls with ack ids, and the ping/pong heartbeat (server ``2`` → client ``3``).

With ``deflate`` it offers permessage-deflate the way Chrome does (``permessage-deflate;
client_max_window_bits``: no context-takeover parameters, so the server decides), because every browser and
``socket.io-client`` offer it and the edge's memory per socket depends on what was negotiated. It counts the bytes
it reads and writes on the TCP stream, so a run can say what a message costs on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable
from typing import Any

import orjson
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

EventHandler = Callable[["LeanSocket", str, Any], None]
AckHandler = Callable[[Any], None]


class ProtocolError(Exception):
    """The server closed, refused the handshake, or answered a connect with an error (``44``)."""


class LeanSocket(asyncio.Protocol):
    """One Socket.IO connection. Events go to ``on_event(sock, name, data)``; calls take an ack callback
    (``emit_call``) or are awaited (``call``), the latter only for setup steps where one future is cheap enough.
    """

    def __init__(self, url: str, on_event: EventHandler | None = None, deflate: bool = False) -> None:
        self.url = url
        self.on_event = on_event
        self.wsuri = parse_uri(url)
        offer = [ClientPerMessageDeflateFactory(client_max_window_bits=True)] if deflate else None
        self.ws = ClientProtocol(self.wsuri, max_size=16 * 1024 * 1024, extensions=offer)
        self.bytes_in = self.bytes_out = 0
        self.negotiated = ""  # the extensions the server accepted, from its handshake response (empty: none)
        self.transport: asyncio.Transport | None = None
        self.sid: str | None = None
        self.closed = False
        self.server_disconnected = False
        self._acks: dict[int, AckHandler] = {}
        self._ids = itertools.count(1)
        self._open: asyncio.Future[dict[str, Any]] | None = None
        self._connected: asyncio.Future[dict[str, Any]] | None = None
        self.user: Any = None  # free slot for the generator's per-socket state

    # ---- asyncio.Protocol -------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports do not subclass asyncio's
        self.ws.send_request(self.ws.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        self.ws.receive_data(data)
        for event in self.ws.events_received():
            if isinstance(event, Response):
                self.negotiated = event.headers.get("Sec-WebSocket-Extensions", "")
                if self.ws.handshake_exc is not None:
                    self._fail(ProtocolError(f"websocket handshake failed: {self.ws.handshake_exc}"))
            elif event.opcode is Opcode.TEXT:
                self._packet(event.data.decode())
        self._flush()  # websockets answers pings and closes by itself; send what it queued

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ProtocolError(f"connection lost: {exc}"))

    # ---- Engine.IO / Socket.IO -----------------------------------------------------------------------------
    def _packet(self, text: str) -> None:
        kind = text[0]
        if kind == "4":  # engine.io message → socket.io packet
            sio = text[1]
            if sio == "2":
                name, data = _event(text[2:])
                if self.on_event is not None:
                    self.on_event(self, name, data)
            elif sio == "3":
                ack_id, args = _ack(text[2:])
                handler = self._acks.pop(ack_id, None)
                if handler is not None:
                    handler(args[0] if args else None)
            elif sio == "0":
                if self._connected is not None and not self._connected.done():
                    self._connected.set_result(orjson.loads(text[2:]) if len(text) > 2 else {})
            elif sio == "4":
                self._fail(ProtocolError(f"connect refused: {text[2:]}"))
            elif sio == "1":  # the server ended the socket.io session (kick, heartbeat timeout): count it
                self.server_disconnected = True
                self.close()
        elif kind == "2":
            self._send("3")
        elif kind == "0":
            info = orjson.loads(text[1:])
            self.sid = info.get("sid")
            if self._open is not None and not self._open.done():
                self._open.set_result(info)
        elif kind == "1":
            self.close()

    def _send(self, text: str) -> None:
        if self.closed or self.transport is None:
            return
        self.ws.send_text(text.encode())
        self._flush()

    def _flush(self) -> None:
        if self.transport is None:
            return
        for chunk in self.ws.data_to_send():
            if chunk:
                self.bytes_out += len(chunk)
                self.transport.write(chunk)
            else:  # EOF requested by the protocol
                with contextlib.suppress(OSError):
                    self.transport.write_eof()

    def _fail(self, exc: Exception) -> None:
        for fut in (self._open, self._connected):
            if fut is not None and not fut.done():
                fut.set_exception(exc)

    # ---- the API the generator uses ----------------------------------------------------------------------
    async def connect(self, auth: dict[str, Any] | None, timeout: float = 15.0) -> dict[str, Any]:
        """Open the websocket, wait for the engine.io open packet, send the socket.io connect with ``auth``."""
        loop = asyncio.get_running_loop()
        self._open, self._connected = loop.create_future(), loop.create_future()
        host, port = self.wsuri.host, self.wsuri.port
        async with asyncio.timeout(timeout):
            await loop.create_connection(lambda: self, host, port)
            await self._open
            self._send("40" + (orjson.dumps(auth).decode() if auth is not None else ""))
            return await self._connected

    def emit(self, event: str, data: Any) -> None:
        self._send("42" + orjson.dumps([event, data]).decode())

    def emit_call(self, event: str, data: Any, on_ack: AckHandler) -> None:
        ack_id = next(self._ids)
        self._acks[ack_id] = on_ack
        self._send(f"42{ack_id}" + orjson.dumps([event, data]).decode())

    async def call(self, event: str, data: Any, timeout: float = 15.0) -> Any:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.emit_call(event, data, lambda reply: fut.done() or fut.set_result(reply))
        async with asyncio.timeout(timeout):
            return await fut

    @property
    def pending_acks(self) -> int:
        return len(self._acks)

    def close(self) -> None:
        if self.closed or self.transport is None:
            return
        self.closed = True
        self.transport.close()  # dropping TCP is enough: the server cleans up the socket as on a lost client


def _event(payload: str) -> tuple[str, Any]:
    """``["name", data]`` (optionally preceded by an ack id the server wants; the bench never gets one)."""
    start = payload.index("[")
    items = orjson.loads(payload[start:])
    return items[0], (items[1] if len(items) > 1 else None)


def _ack(payload: str) -> tuple[int, list[Any]]:
    start = payload.index("[")
    return int(payload[:start]), orjson.loads(payload[start:])


def now() -> float:
    """The one clock every latency uses (monotonic, in seconds)."""
    return time.perf_counter()
