"""One client, assembled: the parts that keep it connected, send, receive and answer requests, wired together.

Everything here runs on one asyncio event loop (the application's for :class:`AsyncWebSocketClient`, the SDK's
own background thread for :class:`WebSocketClient`); the two faces only translate calls. The few entry points
used from other threads (:meth:`client.sender.Sender.enqueue`, reading ``connection.status``) say so.

Parts, each in its own module: :mod:`client.connection` (link lifecycle, reconnect; :mod:`client.link` for one
link and its heartbeat), :mod:`client.sender` (the outbox to the server), :mod:`client.incoming` (receipts,
dedup, order, gap fill), :mod:`client.rpc` (request helpers). This class routes the connection's news to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from client.backoff import Backoff
from client.config import ClientConfig
from client.connection import Connection, server_urls
from client.dispatch import Dispatcher
from client.incoming import Incoming
from client.memory import DisplayMemory
from client.outbox import Outbox
from client.rpc import Rpc
from client.runtime import Runtime
from client.sender import Sender
from client.ticks import StatusFilter
from client.tracker import SequenceTracker


class ClientCore:
    """The parts of one client, wired; the faces call the parts directly. Not thread-safe except where a part
    says so."""

    def __init__(self, server_url: str | Sequence[str], config: ClientConfig, dispatcher: Dispatcher,
                 queue_path: str | Path | None = None) -> None:
        self.config = config
        self.runtime = Runtime(dispatcher)
        self.outbox = Outbox(lambda: self.config.max_queue_size, queue_path)
        self.tracker = SequenceTracker()
        self.memory = DisplayMemory(queue_path, self.tracker.max_seen)
        self.ticks = StatusFilter()
        backoff = Backoff(lambda: self.config.retry_interval, lambda: self.config.max_retry_interval,
                          lambda: self.config.max_retries)
        self.connection = Connection(server_urls(server_url), config, self.runtime, backoff, listener=self)
        self.rpc = Rpc(config, self.connection, self.tracker)
        self.incoming = Incoming(config, self.runtime, self.connection, self.rpc, self.tracker, self.memory)
        self.sender = Sender(config, self.runtime, self.connection, self.outbox, self.incoming)

    # -- the connection's news (client.connection.LinkListener) ---------------------------------------------

    def starting(self, user_id: int) -> None:
        """Messages queued before connect() (or persisted by an earlier process) now belong to this user, and
        what an earlier run showed this user is known again."""
        self.outbox.claim(user_id)
        self.outbox.load(user_id)
        self.tracker.restore(*self.memory.load(user_id))

    def link_up(self) -> None:
        self.sender.backend_back()
        self.incoming.link_up()

    def new_message(self, data: Any) -> None:
        # Looked up at each call (not bound once) so the live tests can spy on the incoming path.
        self.incoming.receive(data)

    def message_status(self, data: Any) -> None:
        """Ticks only move forward: a late or repeated status is not passed on (:mod:`client.ticks`)."""
        if self.ticks.accept(data):
            self.runtime.emit("message_status", data)

    def close(self) -> None:
        self.memory.close()
        self.outbox.close()
