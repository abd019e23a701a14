"""python-socketio and python-engineio hardened against hostile clients, at the layer where each attack lands:

- engine.io connections: a cap per client IP, a deadline to register, each socket's outgoing backlog bounded in
  bytes (:mod:`services.connection.outbox`), and a server-side close that closes the transport — python-socketio's
  ``disconnect`` only leaves the namespace (socket.io ``41``) and the client could rejoin with ``40``;
- socket.io packets: a packet that does not decode, a binary packet (the contract has none), an EVENT whose name
  is reserved (``connect``/``disconnect`` used to run the server's own lifecycle handlers) or undeclared, or one
  larger than its event's largest legal payload never reaches a handler: the client gets an error ack, or the
  connection is closed for a protocol violation, with one rate-limited log line (:mod:`quiet_log`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter as Tally
from collections.abc import Callable
from typing import Any

import engineio
import socketio
from prometheus_client import Counter
from socketio import packet

from services.connection.outbox import Outbox
from services.connection.quiet_log import quiet_logger
from switchboard.contract import EVENTS, MAX_PACKET_BYTES, RESERVED_EVENTS
from switchboard.errors import InvalidArgument, PayloadTooLarge, SwitchboardError

log = logging.getLogger(__name__)
transport_log = quiet_logger("switchboard.edge.transport")

REFUSED = Counter("switchboard_edge_refused_total", "Connections and packets refused at the transport", ["reason"])

# Packet types a client may send: CONNECT, DISCONNECT, EVENT, ACK (no binary: the contract has no binary event).
_CLIENT_PACKETS = frozenset({packet.CONNECT, packet.DISCONNECT, packet.EVENT, packet.ACK})
_PACKET_LIMITS = {name: event.max_packet_bytes() for name, event in EVENTS.items()}


class _EngineServer(engineio.AsyncServer):
    """engine.io with a bounded outgoing queue per socket."""

    backlog_limit: int = 1 << 20
    on_backlog_overflow: Callable[[str], None] = staticmethod(lambda eio_sid: None)

    def create_queue(self, *args: Any, **kwargs: Any) -> asyncio.Queue:
        return Outbox(self.backlog_limit, self._overflowed)

    def _overflowed(self, outbox: Outbox) -> None:
        for eio_sid, sock in self.sockets.items():  # rare (an attack), so a scan is fine
            if sock.queue is outbox:
                self.on_backlog_overflow(eio_sid)
                return


class EdgeServer(socketio.AsyncServer):
    def __init__(self, *, client_address: Callable[[dict[str, Any]], str], max_connections_per_ip: int,
                 register_timeout: float, backlog_limit: int, is_registered: Callable[[str], bool],
                 **options: Any) -> None:
        super().__init__(logger=quiet_logger("socketio.server"), engineio_logger=quiet_logger("engineio.server"),
                         max_http_buffer_size=MAX_PACKET_BYTES, **options)
        self.eio.backlog_limit = backlog_limit
        self.eio.on_backlog_overflow = self._backlog_overflow
        self._client_address, self._max_per_ip = client_address, max_connections_per_ip
        self._register_timeout, self._is_registered = register_timeout, is_registered
        self._per_ip: Tally[str] = Tally()
        self._conns: dict[str, tuple[str, asyncio.TimerHandle]] = {}  # eio sid → client IP, register deadline
        self._closing: set[asyncio.Task[None]] = set()

    def _engineio_server_class(self) -> type[engineio.AsyncServer]:
        return _EngineServer

    # --- engine.io connections ------------------------------------------------------------------------------

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> bool | None:
        ip = self._client_address(environ)
        if self._max_per_ip and self._per_ip[ip] >= self._max_per_ip:
            REFUSED.labels("connections_per_ip").inc()
            transport_log.warning("connection refused: too many from one address", extra={"ip": ip})
            return False  # engine.io refuses (a websocket upgrade is answered 403) and forgets the connection
        self._per_ip[ip] += 1
        deadline = asyncio.get_running_loop().call_later(self._register_timeout, self._deadline, eio_sid)
        self._conns[eio_sid] = (ip, deadline)
        await super()._handle_eio_connect(eio_sid, environ)
        return None

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any) -> None:
        conn = self._conns.pop(eio_sid, None)
        if conn is not None:
            ip, deadline = conn
            deadline.cancel()
            self._per_ip[ip] -= 1
            if self._per_ip[ip] <= 0:
                del self._per_ip[ip]
        await super()._handle_eio_disconnect(eio_sid, reason)

    def _deadline(self, eio_sid: str) -> None:
        sid = self.manager.sid_from_eio_sid(eio_sid, "/")
        if eio_sid in self._conns and (sid is None or not self._is_registered(sid)):
            REFUSED.labels("register_timeout").inc()
            self._close_later(eio_sid)

    def _backlog_overflow(self, eio_sid: str) -> None:
        transport_log.warning("socket dropped: outgoing backlog over the limit", extra={"eio_sid": eio_sid})
        self._close_later(eio_sid)

    def _close_later(self, eio_sid: str) -> None:
        task = asyncio.ensure_future(self.close_connection(eio_sid))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close_connection(self, eio_sid: str) -> None:
        """Close the engine.io connection, not only the namespace: the disconnect handlers run, a CLOSE packet
        is queued, and the writer stops after it and closes the websocket; a polling client's next request is
        refused. Never waits for the client to read anything."""
        sock = self.eio.sockets.pop(eio_sid, None)
        if sock is None:
            return
        await sock.close(wait=False, abort=False)
        sock.queue.put_nowait(None)

    async def drained(self, sid: str) -> None:
        """Wait while the socket's outgoing backlog is above half its limit: bulk pushes (a user's offline
        backlog) go at the pace the client reads instead of tripping the limit meant for clients that stopped."""
        sock = self.eio.sockets.get(self.manager.eio_sid_from_sid(sid, "/"))
        if sock is not None and sock.queue.held > sock.queue.limit // 2:
            # bounded: a connection closed meanwhile never drains; the caller checks its socket and goes on
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sock.queue.below_half(), 5)

    async def close_socket(self, sid: str) -> None:
        """:meth:`close_connection` for a socket.io sid."""
        eio_sid = self.manager.eio_sid_from_sid(sid, "/")
        if eio_sid is not None:
            await self.close_connection(eio_sid)

    # --- socket.io packets ----------------------------------------------------------------------------------

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if eio_sid not in self.eio.sockets:
            return  # closed by the server: nothing it sends counts any more (no rejoin with ``40``)
        try:
            pkt = self.packet_class(encoded_packet=data)
            if pkt.packet_type not in _CLIENT_PACKETS or (pkt.namespace or "/") != "/":
                raise ValueError(f"packet type {pkt.packet_type} / namespace {pkt.namespace!r} not accepted")
            if pkt.packet_type == packet.EVENT:
                await self._event(eio_sid, pkt, data)
            else:
                await super()._handle_eio_message(eio_sid, data)
        except Exception as exc:  # a protocol violation: one line, and the connection goes
            REFUSED.labels("malformed_packet").inc()
            transport_log.warning("malformed packet; closing the connection",
                                  extra={"eio_sid": eio_sid, "error": repr(exc)[:200], "bytes": len(data or "")})
            await self.close_connection(eio_sid)

    async def _event(self, eio_sid: str, pkt: Any, raw: str | bytes) -> None:
        args = pkt.data
        if not isinstance(args, list) or not args or not isinstance(args[0], str):
            raise ValueError("an EVENT packet needs a list starting with the event name")
        limit = _PACKET_LIMITS.get(args[0])
        error: SwitchboardError | None = None
        if limit is None or args[0] in RESERVED_EVENTS:
            REFUSED.labels("unknown_event").inc()
            error = InvalidArgument(f"unknown event {args[0][:64]!r}")
        elif len(raw) > limit:
            REFUSED.labels("payload_too_large").inc()
            error = PayloadTooLarge(f"{args[0]} payloads are at most {limit} bytes")
        if error is None:
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, args)
        elif pkt.id is not None:
            await self._send_packet(eio_sid, self.packet_class(
                packet.ACK, namespace=pkt.namespace, id=pkt.id, data=[error.to_reply()]))
