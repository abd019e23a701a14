"""Settings of an edge node (``SWITCHBOARD_*``)."""

from __future__ import annotations

import dataclasses

from switchboard import settings
from switchboard.settings import CommonSettings


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(CommonSettings):
    edge_port: int = 8000
    # The spec's server-side heartbeat settings: clients beat every interval; silence past the timeout closes.
    heartbeat_interval_seconds: float = 30
    heartbeat_timeout_seconds: float = 120
    # Heartbeats are written to the registry in one statement per flush, whatever the socket count.
    heartbeat_flush_seconds: float = 5
    offline_batch: int = 100
    # Comma-separated peer addresses whose X-Forwarded-For is believed (the load balancer).
    trusted_proxies: str = ""
    cors_allowed_origins: str = "*"
    # Per-socket send budget: a burst, refilled at a steady rate.
    send_rate_per_second: float = 50
    send_burst: int = 200

    @property
    def trusted_proxy_set(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.trusted_proxies.split(",") if p.strip())


def load_settings() -> Settings:
    return settings.load(Settings)
