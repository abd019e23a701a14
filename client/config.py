"""The client's tunables, in one object that every part reads at the moment of use, so the faces can expose
each as a read/write attribute and a change applies from the next use without restarting anything."""

from __future__ import annotations

import dataclasses

from switchboard.contract.schema import HISTORY_MAX_LIMIT


@dataclasses.dataclass
class ClientConfig:
    """Tunables. The faces expose each as a read/write attribute; changes apply from the next use."""

    heartbeat_interval: float = 30.0
    heartbeat_timeout: float = 10.0  # an ack slower than this means the connection is dead
    retry_interval: float = 1.0  # reconnect window at first (client.backoff)
    max_retry_interval: float = 60.0  # reconnect window cap
    max_send_retry_interval: float = 2.0  # cap of the delay before re-sending a message refused for now
    max_retries: int | None = None  # consecutive failed attempts before giving up; None: never give up
    max_queue_size: int = 100  # unacknowledged messages in the outbox
    request_timeout: float = 10.0  # ack timeout of request events, and how long a request waits for a link
    send_timeout: float = 10.0  # ack timeout of send_message before the message is sent again
    connect_timeout: float = 10.0  # socket.io connect handshake
    auto_ack_delivered: bool = True
    gap_timeout: float = 1.0  # how long a held-back message waits for its predecessor's push before sync
    sync_limit: int = HISTORY_MAX_LIMIT  # the contract's largest sync page
    transports: list[str] = dataclasses.field(default_factory=lambda: ["websocket"])
    permanent_error_codes: frozenset[str] = frozenset({"FORBIDDEN", "INVALID_ARGUMENT", "NOT_FOUND"})
