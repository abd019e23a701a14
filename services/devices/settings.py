"""Settings of the devices service: the shared ones plus its ports, caps and the stale-connection sweep."""

from __future__ import annotations

import dataclasses

from switchboard.settings import CommonSettings, load


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(CommonSettings):
    devices_http_port: int = 8102
    devices_grpc_port: int = 50052
    # Server-authenticated TLS for outside backends that send a bearer token instead of a client certificate
    # (0: none).
    devices_grpc_token_port: int = 0
    max_devices_per_user: int = 10
    max_sockets_per_device: int = 5
    # A connected row whose heartbeat is older than this is taken for a socket its edge lost (crash, partition).
    heartbeat_timeout_seconds: float = 120
    cleanup_interval_seconds: float = 30


def load_settings() -> Settings:
    return load(Settings)
