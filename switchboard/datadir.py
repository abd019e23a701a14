"""The data dir of ``switchboard up`` (``.switchboard/`` in the working directory unless ``--data-dir`` says
otherwise): the bundled NATS server's JetStream store and the development secrets, made once and kept, so a
second ``up`` finds its messages and its clients' tokens stay valid, and ``switchboard token`` mints tokens the
running system accepts. Nothing here has a default anyone else knows: the JWT secret and the NATS passwords are
random per data dir, in files only their owner can read."""

from __future__ import annotations

import secrets
from pathlib import Path

from switchboard.nats_auth import NatsAuth, write_private

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
        """The bundled NATS server's users, generated on first use."""
        return NatsAuth.load_or_generate(self.root / "nats-auth.json", prefix)
