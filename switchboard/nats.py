"""NATS connection and subject naming. Every subject lives under the deployment's prefix, so several
deployments (or test runs) can share one NATS server."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import orjson
from nats.aio.client import Client

log = logging.getLogger(__name__)


class Subjects:
    """The subject (and stream) names of one deployment."""

    def __init__(self, prefix: str) -> None:
        if not prefix or any(c in prefix for c in " .*>"):
            raise ValueError(f"SWITCHBOARD_NATS_PREFIX must be one subject token, got {prefix!r}")
        self.prefix = prefix

    def user(self, user_id: int) -> str:
        """Events for a user, over core NATS (message_status, typing, presence, session_updated, kicked, and a
        sender's own message for its other devices): live only, their state lives in the database."""
        return f"{self.prefix}.user.{user_id}.evt"

    def user_inbox(self, user_id: int) -> str:
        """Messages for a recipient: published with JetStream, so they are acknowledged and kept in the inbox
        stream (and core subscribers still receive them live)."""
        return f"{self.prefix}.user.{user_id}.msg"

    def user_all(self, user_id: int) -> str:
        """What an edge node holding a socket of the user subscribes to: both of the above, one subscription."""
        return f"{self.prefix}.user.{user_id}.>"

    @staticmethod
    def user_of(subject: str) -> int:
        """The user id in a subject built by :meth:`user` or :meth:`user_inbox`."""
        return int(subject.split(".")[2])

    def presence(self, user_id: int) -> str:
        """A user's online/offline transitions: devices publishes them, messaging forwards them to the user's
        session counterparts."""
        return f"{self.prefix}.presence.{user_id}"

    @property
    def presence_wildcard(self) -> str:
        return f"{self.prefix}.presence.*"

    @property
    def inbox_stream(self) -> str:
        """The JetStream stream that keeps each user's messages for offline delivery."""
        return f"{self.prefix.upper().replace('-', '_')}_INBOX"

    @property
    def inbox_subjects(self) -> str:
        return f"{self.prefix}.user.*.msg"


def encode(event: str, data: dict[str, Any], **extra: Any) -> bytes:
    return orjson.dumps({"event": event, "data": data, **extra})


def decode(payload: bytes) -> dict[str, Any]:
    return orjson.loads(payload)


async def connect(url: str, name: str, on_reconnected: Callable[[], Awaitable[None]] | None = None) -> Client:
    """Connect with unlimited reconnects: a NATS restart must not take a service down with it.
    ``on_reconnected`` runs after a reconnect, once the client's subscriptions are restored."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", extra={"error": repr(exc)})

    async def on_disconnected() -> None:
        log.warning("nats disconnected")

    async def reconnected() -> None:
        log.info("nats reconnected")
        if on_reconnected is not None:
            await on_reconnected()

    return await nats.connect(
        url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5,
        error_cb=on_error, disconnected_cb=on_disconnected, reconnected_cb=reconnected,
    )
