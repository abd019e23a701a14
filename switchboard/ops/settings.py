"""Where the operator tools find the system, read from the environment like the services' settings.

The common settings name MySQL, NATS (``SWITCHBOARD_NATS_USER=operator`` and its password) and the gRPC targets
with the operator's certificate (``SWITCHBOARD_GRPC_CERT_FILE``/``_KEY_FILE``/``_CA_FILE``, from
``switchboard certs --client operator``); the edges are the only part with no registry to ask, so they are
listed here."""

from __future__ import annotations

import dataclasses

from switchboard.settings import CommonSettings, load


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(CommonSettings):
    # The edges' admin addresses (their /metrics and /ready, never the public socket.io port), comma-separated.
    edge_admin_urls: str = "http://127.0.0.1:8200"
    # How long one read or call of the operator tools may take before it is reported as unreachable.
    ops_timeout_seconds: float = 5.0

    @property
    def edges(self) -> list[str]:
        return [url.strip().rstrip("/") for url in self.edge_admin_urls.split(",") if url.strip()]


def load_settings() -> Settings:
    return load(Settings)
