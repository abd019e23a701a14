"""The data dir of ``switchboard up`` (``.switchboard/`` in the working directory unless ``--data-dir`` says
otherwise): the bundled NATS server's JetStream store and the development secrets, made once and kept, so a
second ``up`` finds its messages and its clients' tokens stay valid, and ``switchboard token`` mints tokens the
running system accepts. Nothing here has a default anyone else knows: the JWT secret and the NATS passwords are
random per data dir, in files only their owner can read.

An operator is provided for too, so ``switchboard status`` in another terminal just works: the NATS server admits
the ``operator`` user, the development CA signs an ``operator`` client certificate, and ``up`` keeps where
everything is (addresses and those credentials, as the operator tools' settings) in ``operator-env.json``,
written at each start (a stopped ``up`` leaves it: the tools then report its parts unreachable, the truth)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from pathlib import Path

from switchboard import certs
from switchboard.contract.rpcs import OPERATOR as OPERATOR_CALLER
from switchboard.nats_auth import OPERATOR, SERVICE_ROLES, NatsAuth, write_private

DEFAULT = Path(".switchboard")


class DataDir:
    def __init__(self, root: Path | str | None = None) -> None:
        self.root = Path(root or DEFAULT)

    @property
    def nats_store(self) -> Path:
        return self.root / "nats"

    @property
    def _jwt_secret_path(self) -> Path:
        return self.root / "jwt-secret"

    @property
    def operator_env_path(self) -> Path:
        return self.root / "operator-env.json"

    def read_jwt_secret(self) -> str | None:
        """The development secret, if this data dir has one."""
        path = self._jwt_secret_path
        return path.read_text().strip() if path.exists() else None

    def jwt_secret(self) -> str:
        """The development secret, generated on first use."""
        found = self.read_jwt_secret()
        if found:
            return found
        secret = secrets.token_urlsafe(48)
        write_private(self._jwt_secret_path, secret + "\n")
        return secret

    def nats_auth(self, prefix: str) -> NatsAuth:
        """The bundled NATS server's users (the services' and the operator's), generated on first use."""
        return NatsAuth.load_or_generate(self.root / "nats-auth.json", prefix, (*SERVICE_ROLES, OPERATOR))

    def pki(self) -> Path:
        """The development CA with the services' certificates and the operator's client certificate, each made
        only if missing."""
        return certs.ensure(self.root / "pki", clients=(*certs.DEFAULT_CLIENTS, OPERATOR_CALLER))

    def write_operator_env(self, env: Mapping[str, str]) -> None:
        """The operator tools' ``SWITCHBOARD_*`` settings for the running ``up`` (it holds a password)."""
        write_private(self.operator_env_path, json.dumps(dict(env), indent=2) + "\n")

    def read_operator_env(self) -> dict[str, str] | None:
        """What :meth:`write_operator_env` kept, or None when no ``up`` has started with this data dir."""
        path = self.operator_env_path
        return {str(k): str(v) for k, v in json.loads(path.read_text()).items()} if path.exists() else None
