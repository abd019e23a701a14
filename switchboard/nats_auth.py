"""Who may connect to NATS, and what each service may publish and subscribe there.

Anyone who could reach NATS used to be able to publish on a user's subject: a forged ``new_message`` pushed
to the victim, then a ``kicked``. So every connection authenticates as one role (user name = role name), and
each role gets the subjects its service actually uses, nothing more:

- ``edge``: publishes typing notices only (``{prefix}.user.*.typing``, the one subject an edge's fan-out
  accepts nothing but ``typing`` from); subscribes to users' subjects and to the staff broadcasts
  (``{prefix}.staff``), which it may not publish: a compromised edge cannot feed every agent's console.
- ``messaging``: publishes messages (``.msg``, through JetStream), events (``.evt``) and the staff broadcasts,
  creates/updates its inbox stream through the JetStream API, reads PubAcks on its ``_INBOX``; subscribes to
  presence.
- ``devices``: publishes presence transitions and kicks (``.evt``); subscribes to nothing.
- ``notifications``: reads the inbox stream through its one durable consumer (:data:`NOTIFICATIONS_CONSUMER`):
  may look it up, create it, pull from it and acknowledge its messages, and nothing else of JetStream's API
  (no stream changes, no other consumer); publishes nothing on users' subjects; subscribes to replies only.
- ``operator`` (the operator tools, ``switchboard status``): reads the inbox stream's state
  (``STREAM.INFO``) and nothing else: it can neither publish on a subject nor read a message.
- ``admin`` (tests): everything. It is generated only when asked for.

Permissions are per deployment prefix; ``*`` (:data:`ANY_PREFIX`) grants them on every prefix, for a server
shared by several deployments (the test suite). The server configuration is generated from this module: by
:class:`~switchboard.runner.NatsServer` for ``switchboard up`` and the tests, and ``deploy/nats.conf`` for
compose (``python -m switchboard.nats_auth``; a test fails when it drifts).
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

from switchboard.certs import TlsFiles
from switchboard.nats import Subjects

SERVICE_ROLES = ("edge", "messaging", "devices", "notifications")
ROLE_OF_SERVICE = {"connection": "edge", "messaging": "messaging", "devices": "devices",
                   "notifications": "notifications"}
NOTIFICATIONS_CONSUMER = "notifications"  # the notifications service's durable consumer on the inbox stream
ADMIN = "admin"
OPERATOR = "operator"
ANY_PREFIX = "*"
COMPOSE_PREFIX = "switchboard"
# The compose NATS admits the services and the operator tools (``switchboard status`` reads the stream's state).
COMPOSE_ROLES = (*SERVICE_ROLES, OPERATOR)


@dataclasses.dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]  # empty: may subscribe to nothing


def permissions(role: str, prefix: str) -> Permissions | None:
    """What ``role`` may do under ``prefix`` (``*``: any prefix); None for the unrestricted admin."""
    stream = ANY_PREFIX if prefix == ANY_PREFIX else Subjects(prefix).inbox_stream
    user = f"{prefix}.user.*"
    if role == "edge":
        return Permissions(publish=(f"{user}.typing",), subscribe=(f"{user}.>", f"{prefix}.staff"))
    if role == "messaging":
        return Permissions(
            publish=(f"{user}.msg", f"{user}.evt", f"{prefix}.staff", f"$JS.API.STREAM.CREATE.{stream}",
                     f"$JS.API.STREAM.UPDATE.{stream}"),
            subscribe=(f"{prefix}.presence.*", "_INBOX.>"),  # _INBOX: JetStream's PubAcks and API replies
        )
    if role == "devices":
        return Permissions(publish=(f"{prefix}.presence.*", f"{user}.evt"), subscribe=())
    if role == "notifications":
        consumer = ANY_PREFIX if prefix == ANY_PREFIX else NOTIFICATIONS_CONSUMER
        return Permissions(
            publish=(f"$JS.API.CONSUMER.INFO.{stream}.{consumer}", f"$JS.API.CONSUMER.CREATE.{stream}.{consumer}",
                     f"$JS.API.CONSUMER.CREATE.{stream}.{consumer}.>",
                     f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}", f"$JS.ACK.{stream}.{consumer}.>"),
            subscribe=("_INBOX.>",),  # the API's replies and the pulled messages
        )
    if role == OPERATOR:
        return Permissions(publish=(f"$JS.API.STREAM.INFO.{stream}",), subscribe=("_INBOX.>",))
    if role == ADMIN:
        return None
    raise ValueError(f"unknown NATS role {role!r}")


@dataclasses.dataclass(frozen=True)
class EnvRef:
    """A value the server reads from its environment when it loads the configuration (``$NAME``): compose
    hands the passwords to the NATS container that way, so none is written into the repository."""

    name: str


def password_variable(role: str) -> str:
    return f"SWITCHBOARD_NATS_{role.upper()}_PASSWORD"


def server_config(prefix: str, passwords: Mapping[str, str | EnvRef]) -> str:
    """The ``authorization`` block of a nats-server configuration: one user per role in ``passwords``."""
    users = []
    for role, password in passwords.items():
        secret = f"${password.name}" if isinstance(password, EnvRef) else json.dumps(password)
        entry = f'    {{user: {json.dumps(role)}, password: {secret}'
        allowed = permissions(role, prefix)
        if allowed is not None:
            subscribe = (f"allow: {_list(allowed.subscribe)}" if allowed.subscribe else 'deny: [">"]')
            entry += f", permissions: {{publish: {{allow: {_list(allowed.publish)}}}, subscribe: {{{subscribe}}}}}"
        users.append(entry + "}")
    return "authorization {\n  users: [\n" + "\n".join(users) + "\n  ]\n}\n"


def tls_config(files: TlsFiles) -> str:
    """The ``tls`` block of a nats-server configuration: clients must use TLS; they authenticate with their
    passwords, which then travel encrypted to a server they verified."""
    return (f"tls {{\n  cert_file: {json.dumps(str(files.cert_file))}\n  key_file: {json.dumps(str(files.key_file))}\n"
            f"  ca_file: {json.dumps(str(files.ca_file))}\n}}\n")


def _list(subjects: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(s) for s in subjects) + "]"


@dataclasses.dataclass(frozen=True)
class NatsAuth:
    """Generated credentials for one NATS server: a password per role, and the prefix they are valid under."""

    prefix: str
    passwords: Mapping[str, str]

    @classmethod
    def generate(cls, prefix: str, roles: Iterable[str] = SERVICE_ROLES) -> NatsAuth:
        return cls(prefix, {role: secrets.token_urlsafe(24) for role in roles})

    @classmethod
    def load_or_generate(cls, path: Path, prefix: str, roles: Iterable[str] = SERVICE_ROLES) -> NatsAuth:
        """The credentials kept in ``path`` (a data dir's), made once: the services and the server agree
        across restarts of ``switchboard up``. Generated again if the prefix changed or a role was added."""
        roles = tuple(roles)
        if path.exists():
            saved = json.loads(path.read_text())
            if saved.get("prefix") == prefix and set(roles) <= saved["passwords"].keys():
                return cls(prefix, saved["passwords"])
        auth = cls.generate(prefix, roles)
        write_private(path, json.dumps({"prefix": prefix, "passwords": dict(auth.passwords)}))
        return auth

    def server_config(self) -> str:
        return server_config(self.prefix, self.passwords)

    def env(self, role: str) -> dict[str, str]:
        """The environment a service of ``role`` connects with."""
        return {"SWITCHBOARD_NATS_USER": role, "SWITCHBOARD_NATS_PASSWORD": self.passwords[role]}

    def url(self, server_url: str, role: str) -> str:
        """``server_url`` with ``role``'s credentials in it, for a direct client (tests)."""
        scheme, _, rest = server_url.partition("://")
        return f"{scheme}://{role}:{self.passwords[role]}@{rest}"


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (secrets, credentials)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def compose_config() -> str:
    """``deploy/nats.conf``: the compose NATS, passwords from its environment."""
    header = ("# Generated by `python -m switchboard.nats_auth` (switchboard/nats_auth.py); a test fails when it "
              "drifts.\n# Passwords come from the NATS container's environment (docker-compose.yml).\n")
    return header + server_config(COMPOSE_PREFIX, {r: EnvRef(password_variable(r)) for r in COMPOSE_ROLES})


if __name__ == "__main__":
    print(compose_config(), end="")
