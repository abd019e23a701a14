"""The retry worker: publishes again what :class:`~services.messaging.publisher.Publisher` could not.

Every replica runs one. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` and marked ``processing`` in a short
transaction, then published outside it (no row lock held across a network call), so replicas share the queue
and never handle the same row at the same time. A failed attempt is due again after an exponential backoff
with jitter; after ``max_retries`` the row is ``failed`` — the message stays undelivered in
``offline_messages`` and is pushed at the recipient's next registration, it is never dropped.
"""

from __future__ import annotations

import asyncio
import logging
import random

from services.messaging import metrics
from services.messaging.publisher import Publisher
from services.messaging.retry_store import RetryJob
from services.messaging.settings import Settings
from services.messaging.store import MessageRow, Store
from switchboard.workers import Worker

log = logging.getLogger(__name__)

CLAIM_LIMIT = 100
# A claimed row is due again after this long if its worker died before finishing it.
LEASE_SECONDS = 60.0
BACKOFF_CAP_SECONDS = 300.0


def backoff(base: float, retry_count: int) -> float:
    """``base * 2**retry_count``, capped, times a jitter in [0.5, 1) so replicas do not retry in lockstep."""
    return min(BACKOFF_CAP_SECONDS, base * 2**retry_count) * random.uniform(0.5, 1.0)


class RetryWorker(Worker):
    name = "retry-worker"

    def __init__(self, store: Store, publisher: Publisher, settings: Settings) -> None:
        self._store, self._publisher, self._settings = store, publisher, settings

    async def run(self) -> None:
        while True:
            if not self._publisher.connected:
                # Every attempt would fail and burn one of the row's retries: wait for NATS instead
                # (``nats_back`` then makes the queue due at once).
                await asyncio.sleep(self._settings.retry_poll_seconds)
                continue
            try:
                claimed = await self.drain_once()
            except Exception:
                log.exception("retry worker pass failed")
                claimed = 0
            if claimed < CLAIM_LIMIT:  # a full claim means more may be due: go again at once
                await asyncio.sleep(self._settings.retry_poll_seconds)

    async def nats_back(self) -> None:
        """NATS reconnected: what was queued while it was away is due now, not after its backoff."""
        try:
            await self._store.retry_due_now()
        except Exception:  # the rows are still retried, at their scheduled time
            log.exception("cannot reschedule the retry queue after a NATS reconnect")

    async def drain_once(self) -> int:
        """Claim due rows, publish them concurrently, record the outcomes. Returns how many were claimed."""
        await self._store.release_expired_leases()
        jobs = await self._store.claim_retries(CLAIM_LIMIT, LEASE_SECONDS)
        if jobs:
            messages = await self._store.get_messages(job.message_id for job in jobs)
            results = await asyncio.gather(
                *(self._attempt(job, messages[job.message_id]) for job in jobs), return_exceptions=True)
            done = [job.id for job, result in zip(jobs, results, strict=True) if result is None]
            await self._store.complete_retries(done)
            metrics.RETRY_PROCESSED.labels("completed").inc(len(done))
            for job, result in zip(jobs, results, strict=True):
                if isinstance(result, BaseException):
                    try:
                        await self._failed(job, result)
                    except Exception:  # its lease expires and it is claimed again; the others go on
                        log.exception("cannot reschedule a retry", extra={"queue_id": job.id})
            log.info("retry pass", extra={"claimed": len(jobs), "completed": len(done)})
        metrics.RETRY_QUEUE_DEPTH.set(await self._store.retry_queue_depth())
        return len(jobs)

    async def _attempt(self, job: RetryJob, message: MessageRow) -> None:
        if not job.to_user_id:
            raise ValueError("message_queue row has no to_user_id")
        await self._publisher.republish(message, job.to_user_id)

    async def _failed(self, job: RetryJob, error: BaseException) -> None:
        metrics.PUBLISH_FAILURES.labels("retry").inc()
        status = await self._store.reschedule_retry(
            job, repr(error), backoff(self._settings.retry_base_seconds, job.retry_count + 1))
        metrics.RETRY_PROCESSED.labels("failed" if status == "failed" else "rescheduled").inc()
        log.warning("retry failed", extra={"queue_id": job.id, "message_id": job.message_id,
                                           "retry_count": job.retry_count + 1, "status": status,
                                           "error": repr(error)})
