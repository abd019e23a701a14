"""Typed settings read from ``SWITCHBOARD_*`` environment variables, once, at start-up.

Each service declares its own frozen dataclass that extends :class:`CommonSettings` and builds it with
:func:`load`; the object is then passed down explicitly. Field ``foo_bar`` reads ``SWITCHBOARD_FOO_BAR``. The
comments above a field are its documentation: ``python -m switchboard.settings docs`` renders every settings
object into docs/configuration.md (:mod:`switchboard.config_docs`).
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

PREFIX = "SWITCHBOARD_"

T = TypeVar("T")


@dataclasses.dataclass(frozen=True, kw_only=True)
class CommonSettings:
    # MySQL: the database (mysql://user:password@host:port/database) and the connections each process pools.
    mysql_url: str = "mysql://root@127.0.0.1:3306/switchboard"
    mysql_pool_size: int = 10
    # NATS: the server (or servers, comma-separated) and the prefix of every subject of this deployment.
    nats_url: str = "nats://127.0.0.1:4222"
    nats_prefix: str = "switchboard"
    # This service's NATS user (its role: edge, messaging, devices) and password; switchboard.nats_auth.
    nats_user: str = ""
    nats_password: str = ""
    nats_tls_ca: str = ""  # CA file of the NATS server's certificate; set, the connection uses TLS
    nats_tls_cert: str = ""  # client certificate and key, for a server that verifies clients
    nats_tls_key: str = ""
    jwt_secret: str = ""  # HS256; at least 32 bytes, never a published value (switchboard.auth)
    jwt_public_key: str = ""  # PEM; when set, tokens are verified with RS256 against it
    # Logs: the threshold (DEBUG, INFO, WARNING, ERROR) and the format.
    log_level: str = "INFO"
    log_format: str = "json"  # json | text
    # This process's name in logs and metrics; an edge's sockets are registered under it (default: host-pid).
    node_id: str = dataclasses.field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    bind_host: str = "127.0.0.1"  # HTTP and gRPC listen here; 0.0.0.0 in containers
    # Where devices and messaging answer gRPC: host:port, or several replicas comma-separated.
    devices_grpc_target: str = "127.0.0.1:50052"
    messaging_grpc_target: str = "127.0.0.1:50051"
    # gRPC mutual TLS (switchboard.grpc.Transport): the CA that signs the peers, this process's certificate (its
    # caller identity, and the server certificate of devices and messaging) and key. Without them a service
    # refuses to start, unless grpc_insecure allows plaintext, with no caller checks, on loopback only.
    grpc_ca_file: str = ""
    grpc_cert_file: str = ""
    grpc_key_file: str = ""
    grpc_insecure: bool = False
    # gRPC servers only: the outside backends that may call (switchboard.callers) and the reflection service.
    grpc_callers_file: str = ""
    grpc_reflection: bool = False


def _convert(raw: str, annotation: Any, name: str) -> Any:
    if isinstance(annotation, types.UnionType):  # e.g. ``int | None``
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return None if raw == "" else _convert(raw, args[0], name)
    if annotation is bool:
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{PREFIX}{name.upper()} must be a boolean, got {raw!r}")
    try:
        return annotation(raw)
    except ValueError as exc:
        raise ValueError(f"{PREFIX}{name.upper()} must be {annotation.__name__}, got {raw!r}") from exc


def load(cls: type[T], environ: Mapping[str, str] | None = None, **overrides: Any) -> T:
    """Build ``cls`` from the environment; explicit ``overrides`` win (tests use them)."""
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        key = PREFIX + field.name.upper()
        if key in environ:
            values[field.name] = _convert(environ[key], hints[field.name], field.name)
    values.update(overrides)
    return cls(**values)


if __name__ == "__main__":
    from switchboard.config_docs import main

    main(sys.argv[1:])
