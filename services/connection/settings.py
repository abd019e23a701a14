"""Settings of an edge node (``SWITCHBOARD_*``)."""

from __future__ import annotations

import dataclasses

from services.connection.limits import Rate
from switchboard import settings
from switchboard.contract import RATE_CLASSES
from switchboard.settings import CommonSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(CommonSettings):
    edge_port: int = 8000
    # /health, /ready and /metrics: a port of their own, for probes and Prometheus, never proxied publicly
    # (the socket.io port answers 404 there). Loopback unless the orchestrator probes from outside.
    edge_admin_port: int = 8200
    edge_admin_host: str = "127.0.0.1"
    # What the websocket handshake negotiates: off | no_context_takeover | context_takeover
    # (switchboard/ws_compression.py; the default measured in bench/RESULTS.md).
    ws_compression: str = "no_context_takeover"
    # The spec's server-side heartbeat settings: clients beat every interval; silence past the timeout closes.
    heartbeat_interval_seconds: float = 30
    heartbeat_timeout_seconds: float = 120
    # Heartbeats are written to the registry in one statement per flush, whatever the socket count.
    heartbeat_flush_seconds: float = 5
    offline_batch: int = 100
    # Comma-separated addresses or CIDRs of the load balancers whose X-Forwarded-For is believed
    # (services.connection.proxies).
    trusted_proxies: str = ""
    # Comma-separated browser origins (https://app.example.com); empty: none (services.connection.cors).
    cors_allowed_origins: str = ""
    # Per-socket budgets, one per rate class of the contract: a burst, refilled at a steady rate. A user's
    # sockets on this node share user_rate_multiplier times each budget.
    send_rate_per_second: float = 50
    send_burst: int = 200
    # Receipts are cheap (batched upstream) and apps that acknowledge one message at a time answer a whole
    # offline backlog at once: the burst covers a 10,000-message backlog.
    receipt_rate_per_second: float = 1000
    receipt_burst: int = 10_000
    read_rate_per_second: float = 10
    read_burst: int = 50
    session_rate_per_second: float = 5
    session_burst: int = 20
    typing_rate_per_second: float = 5
    typing_burst: int = 20
    control_rate_per_second: float = 2
    control_burst: int = 20
    user_rate_multiplier: float = 3
    # Typing relays per (socket, session): at most one per interval; the last state within it follows at its end.
    typing_relay_interval_seconds: float = 1.0
    # engine.io connections from one client address on this node (0: no cap), and how long one may stay open
    # without a registered socket.
    max_connections_per_ip: int = 500
    register_timeout_seconds: float = 30
    # Bytes waiting to be written to one socket; past it the socket is dropped (a reader that stopped reading).
    socket_backlog_bytes: int = 4 << 20
    # Events with large replies (sync, list_devices; a page is up to ~2 MB) one socket may have in flight.
    max_events_in_flight: int = 16
    # Browser pages on the public port (services.connection.web): the widget, the console, the JS SDK and
    # socket.io's browser bundle, read from web_root (empty: the repository's web/ and sdk/js/). Off: 404 there.
    # A page connects only if its origin is in cors_allowed_origins (the edge's own public origin, too).
    web_static: bool = True
    web_root: str = ""
    # POST /dev/token mints a token for any user and role: development only (services.connection.dev_token),
    # refused unless the edge binds loopback and signs HS256. `switchboard up` turns it on and says so.
    dev_token_endpoint: bool = False
    dev_token_ttl_seconds: int = 3600

    def rates(self) -> dict[str, Rate]:
        """Each rate class's per-socket budget, read from the fields named after it."""
        return {name: Rate(getattr(self, f"{name}_rate_per_second"), getattr(self, f"{name}_burst"))
                for name in RATE_CLASSES}


def load_settings() -> Settings:
    return settings.load(Settings)
