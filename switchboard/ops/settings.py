"""Where the operator tools find the system, read from the environment like the services' settings.

The common settings name MySQL, NATS (``SWITCHBOARD_NATS_USER=operator`` and its password) and the gRPC targets
with the operator's certificate (``SWITCHBOARD_GRPC_CERT_FILE``/``_KEY_FILE``/``_CA_FILE``, from
``switchboard certs --client operator``); the edges are the only part with no registry to ask, so they are
listed here.

Against ``switchboard up`` none of that needs typing: ``up`` keeps these settings for the operator in its data
dir (:meth:`~switchboard.datadir.DataDir.write_operator_env`), read from ``--data-dir`` or, like ``up`` itself,
from ``.switchboard/`` here when it has them. A variable set in the environment still wins over the data dir's."""

from __future__ import annotations

import dataclasses
import os

from switchboard.datadir import DataDir
from switchboard.errors import NotFound
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


def load_settings(data_dir: str | None = None) -> Settings:
    """The environment over what ``up`` kept in ``data_dir`` (named: it must have run there; the default
    ``.switchboard/``: only if it has)."""
    kept = DataDir(data_dir).read_operator_env()
    if kept is None and data_dir is not None:
        raise NotFound(f"no `switchboard up` has started with data dir {data_dir}")
    return load(Settings, {**(kept or {}), **os.environ})
