"""Sending what is due: claim rows, decide once more with what is true *now*, call the provider, record the
outcome.

At the due moment (the grace period after the message, or the end of a collapse window):

- the device has a live socket → cancelled (it got the message over the socket);
- the device has no token any more, or its provider is off → cancelled;
- the message was read (on any device: see messages.py) → cancelled, or, if the device shows an alert of this
  session, a silent push withdraws it;
- otherwise the alert for the *latest* message goes out: preview, badge = unread count, tap data.

Outcomes: ACCEPTED → ``sent``; RETRY → ``pending`` again after ``max(Retry-After, backoff)`` with backoff
``push_retry_base_seconds × 2^(attempt-1)`` capped at ``push_retry_max_seconds``, ``failed`` after
``push_max_attempts``; INVALID_TOKEN → the token is cleared in ``user_devices`` (``ClearPushToken``) and the row
``failed``: intake schedules only devices with a token, so it is never tried again; FAILED → ``failed``.

Each provider bounds its own calls (a deadline, ``push_provider_timeout_seconds``, answered as RETRY; at most
``push_provider_concurrency`` in flight), and each push runs in its own task, at most ``push_batch`` at once:
a provider that hangs holds its own slots, not the other providers' nor the claim loop. The service is off the
message path altogether (it reads the stream after messaging acknowledged the sender), so a dead provider never
slows message delivery."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime

from services.notifications import metrics, payload
from services.notifications.devices import DeviceDirectory
from services.notifications.messages import MessageReader
from services.notifications.providers.base import Outcome, Provider, Result
from services.notifications.settings import Settings
from services.notifications.store import Claimed, PushStore
from switchboard.workers import Worker, reraise_if_cancelling

log = logging.getLogger(__name__)

SCAN_SECONDS = 1.0  # withdrawals and the pending gauge, at most this often


class Sender(Worker):
    name = "notifications-sender"

    def __init__(self, store: PushStore, directory: DeviceDirectory, reader: MessageReader,
                 providers: Mapping[str, Provider], settings: Settings) -> None:
        self._store, self._directory, self._reader = store, directory, reader
        self._providers, self._settings = providers, settings
        self._in_flight: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        last_scan = 0.0
        while True:
            try:
                if time.monotonic() - last_scan >= SCAN_SECONDS:
                    last_scan = time.monotonic()
                    await self._withdraw_read()
                    metrics.PENDING.set(await self._store.depth())
                room = self._settings.push_batch - len(self._in_flight)
                for claimed in await self._store.claim(room, self._settings.push_lease_seconds) if room > 0 else []:
                    task = asyncio.create_task(self._deliver(claimed), name=f"push-{claimed.id}")
                    self._in_flight.add(task)
                    task.add_done_callback(self._in_flight.discard)
            except Exception as exc:
                reraise_if_cancelling(exc)
                log.exception("push claim failed")
            await asyncio.sleep(self._settings.push_poll_seconds)

    async def stop(self) -> None:
        """In-flight pushes are abandoned as they are: their rows stay ``sending`` and are claimed again when
        the lease ends (store.py says why a repeat is harmless)."""
        await super().stop()
        for task in list(self._in_flight):
            task.cancel()
        await asyncio.gather(*self._in_flight, return_exceptions=True)

    async def _withdraw_read(self) -> None:
        """Alerts whose message was read since (on any device) are withdrawn with a silent push."""
        shown = await self._store.shown_alerts(self._settings.push_withdraw_horizon_seconds)
        read = await self._reader.messages(message_id for _, message_id in shown)
        await self._store.withdraw([(row, m) for row, m in shown if m in read and read[m].read])

    async def _deliver(self, claimed: Claimed) -> None:
        try:
            await self._decide_and_send(claimed)
        except Exception:  # devices or MySQL unreachable: the lease brings the row back
            log.exception("push failed before reaching a provider", extra={"push_id": claimed.id})

    async def _decide_and_send(self, claimed: Claimed) -> None:
        finish = self._store.finish
        collapse = self._settings.push_collapse_seconds
        device = next((d for d in await self._directory.devices(claimed.user_id)
                       if d.device_id == claimed.device_id), None)
        provider = self._providers.get(device.push_provider) if device is not None else None
        reason = ("no_token" if device is None or not device.push_token or not device.is_active else
                  "provider_off" if provider is None else "online" if device.online else "")
        message = (await self._reader.messages([claimed.message_id])).get(claimed.message_id)
        if not reason and message is None:
            reason = "message_gone"
        if not reason and message is not None and message.read and claimed.kind == "alert":
            if claimed.shown:
                claimed = dataclasses.replace(claimed, kind="withdraw")
            else:
                reason = "read"
        if reason or device is None or provider is None or message is None:
            metrics.SKIPPED.labels(reason).inc()
            await finish(claimed, "cancelled", "", reason, collapse_seconds=collapse)
            return
        badge = await self._reader.unread(claimed.user_id)
        push = payload.alert(claimed, message, badge, device.push_token, self._settings) \
            if claimed.kind == "alert" else payload.withdrawal(claimed, badge, device.push_token)
        result = await provider.send(push)
        metrics.PUSHES.labels(provider.name, result.outcome.value).inc()
        if result.outcome is Outcome.ACCEPTED:
            if claimed.kind == "alert":
                stored = datetime.now(UTC).replace(tzinfo=None) - claimed.stored_at
                metrics.LATENCY.labels(provider.name).observe(max(stored.total_seconds(), 0.0))
            await finish(claimed, "sent", provider.name, result.detail, accepted=True, collapse_seconds=collapse)
        elif result.outcome is Outcome.RETRY and claimed.attempts < self._settings.push_max_attempts:
            await finish(claimed, "pending", provider.name, result.detail, retry_in=self._backoff(claimed, result),
                         collapse_seconds=collapse)
        else:
            if result.outcome is Outcome.INVALID_TOKEN:
                await self._directory.clear_token(claimed.user_id, claimed.device_id, device.push_token)
            log.warning("push failed", extra={"push_id": claimed.id, "provider": provider.name,
                                              "outcome": result.outcome.value, "detail": result.detail})
            await finish(claimed, "failed", provider.name, f"{result.outcome.value}: {result.detail}",
                         collapse_seconds=collapse)

    def _backoff(self, claimed: Claimed, result: Result) -> float:
        backoff = min(self._settings.push_retry_base_seconds * 2 ** (claimed.attempts - 1),
                      self._settings.push_retry_max_seconds)
        return max(backoff, result.retry_after or 0.0)
