"""NATS connection and subject naming. Every subject lives under the deployment's prefix, so several
deployments (or test runs) can share one NATS server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from switchboard.settings import CommonSettings

log = logging.getLogger(__name__)

DRAIN_TIMEOUT_SECONDS = 3
TYPING = "typing"


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

    def user_typing(self, user_id: int) -> str:
        """Typing notices for a user, published by edges. Edges may publish here and nowhere else
        (:mod:`switchboard.nats_auth`), so an edge's fan-out takes nothing but ``typing`` from this subject."""
        return f"{self.prefix}.user.{user_id}.{TYPING}"

    @staticmethod
    def is_typing_subject(subject: str) -> bool:
        return subject.endswith(f".{TYPING}")

    def user_inbox(self, user_id: int) -> str:
        """Messages for a recipient: published with JetStream, so they are acknowledged and kept in the inbox
        stream (and core subscribers still receive them live)."""
        return f"{self.prefix}.user.{user_id}.msg"

    def user_all(self, user_id: int) -> str:
        """What an edge node holding a socket of the user subscribes to: all of the above, one subscription."""
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
    def staff(self) -> str:
        """Broadcasts to every agent and admin (the waiting queue's changes): messaging publishes them, every
        edge node subscribes once and emits them to its staff sockets. No customer's subject is involved, so
        nothing published here can reach a customer."""
        return f"{self.prefix}.staff"

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


async def connect(settings: CommonSettings, name: str,
                  on_reconnected: Callable[[], Awaitable[None]] | None = None) -> Client:
    """Connect to ``SWITCHBOARD_NATS_URL`` (one server, or a cluster's, comma-separated) as the service's NATS
    user (``SWITCHBOARD_NATS_USER`` / ``_PASSWORD``; over TLS when
    ``SWITCHBOARD_NATS_TLS_CA`` is set), with unlimited reconnects: a NATS restart must not take a service down
    with it. ``on_reconnected`` runs after a reconnect, once the client's subscriptions are restored."""

    async def on_error(exc: Exception) -> None:
        log.warning("nats error", extra={"error": repr(exc)})

    async def on_disconnected() -> None:
        log.warning("nats disconnected")

    async def reconnected() -> None:
        log.info("nats reconnected")
        if on_reconnected is not None:
            await on_reconnected()

    login: dict[str, Any] = {}
    if settings.nats_user:
        login.update(user=settings.nats_user, password=settings.nats_password)
    if settings.nats_tls_ca:
        login["tls"] = tls_context(settings)
    # A bounded drain: a service stopping while NATS hangs must still exit within its shutdown budget. A cluster
    # is a comma-separated list of its servers: any one of them lets the client in, and it moves to another.
    return await nats.connect(
        [url.strip() for url in settings.nats_url.split(",") if url.strip()], name=name,
        max_reconnect_attempts=-1, reconnect_time_wait=0.5,
        drain_timeout=DRAIN_TIMEOUT_SECONDS, error_cb=on_error, disconnected_cb=on_disconnected,
        reconnected_cb=reconnected, **login,
    )


def tls_context(settings: CommonSettings) -> ssl.SSLContext:
    """Verify the server against ``nats_tls_ca``; present ``nats_tls_cert`` when the server asks for one."""
    context = ssl.create_default_context(cafile=settings.nats_tls_ca)
    if settings.nats_tls_cert:
        context.load_cert_chain(settings.nats_tls_cert, settings.nats_tls_key or None)
    return context


class SharedSubscriptions:
    """Many subscriptions, one queue and one task. nats-py gives every callback subscription its own
    ``asyncio.Queue`` and task: measured 4.9 KiB each, and an edge holds one per online user. Here each
    subscription is made without a callback (so nats-py starts no task) and its pending queue is swapped for
    this object's shared one; one task hands every message to ``handler``, in arrival order.

    This leans on two private attributes of nats-py's ``Subscription`` (``_pending_queue``,
    ``_message_iterator``; nats-py is pinned to 2.16 for it): subscribing, unsubscribing and the restore of
    subscriptions after a reconnect stay nats-py's own. A full shared queue is nats-py's slow-consumer case: the
    message is dropped and the client's error callback told, as with its own queues."""

    def __init__(self, nc: Client, handler: Callable[[Msg], Awaitable[None]], max_pending: int = 65_536) -> None:
        self._nc, self._handler = nc, handler
        self._queue: asyncio.Queue[Msg] = asyncio.Queue(maxsize=max_pending)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="nats-shared-subscriptions")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def subscribe(self, subject: str) -> Subscription:
        # No byte budget per subscription: nothing would give the bytes back (the shared queue bounds them).
        sub = await self._nc.subscribe(subject, pending_bytes_limit=0)
        own, sub._pending_queue, sub._message_iterator = sub._pending_queue, self._queue, None
        while not own.empty():  # anything that arrived before the swap keeps its order
            self._queue.put_nowait(own.get_nowait())
        return sub

    async def _run(self) -> None:
        while True:
            msg = await self._queue.get()
            try:
                await self._handler(msg)
            except Exception:
                log.exception("nats message handler failed", extra={"subject": msg.subject})
