"""Delivered receipts, kept until the server acknowledged them.

A receipt the server refuses for now (``UNAVAILABLE`` while messaging restarts) or does not answer (the link
dropped) stays pending and goes again after a short :class:`~client.backoff.RetryDelay`, or at once on the
next link; without that the sender's tick stays at "sent" until the message happens to be pushed again.
Receipts go in batches (what accumulated meanwhile, up to the server's 500 ids). Pending ids are bounded:
past ``max_pending`` the oldest are forgotten (logged) — the server pushes an unacknowledged message again at
the next registration and it is acknowledged then. The server's receipts are idempotent, so a receipt sent
twice (after a lost reply, or after a restart) does no harm.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from client.backoff import RetryDelay
from client.config import ClientConfig
from client.connection import Connection
from client.errors import ClientClosedError, ConnectionLostError, NotConnectedError, error_from_reply
from client.rpc import receipt_body
from client.runtime import Runtime
from switchboard.contract.schema import MAX_RECEIPT_IDS as MAX_BATCH  # the edge refuses longer message_ids lists

log = logging.getLogger(__name__)


class DeliveredReceipts:
    """Pending ``message_delivered`` ids of one client and the task that sends them."""

    def __init__(self, config: ClientConfig, runtime: Runtime, connection: Connection,
                 before_send: Callable[[], None], max_pending: int = 10_000) -> None:
        self.config = config
        self.max_pending = max_pending
        self._runtime = runtime
        self._connection = connection
        self._before_send = before_send  # persist what the receipts stand for before the server learns of it
        self._pending: OrderedDict[Any, None] = OrderedDict()
        self._retry = RetryDelay(lambda: self.config.max_send_retry_interval)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, message_id: Any) -> None:
        self._pending[message_id] = None
        while len(self._pending) > self.max_pending:
            dropped, _ = self._pending.popitem(last=False)
            log.warning("too many delivered receipts pending; %s is left to the server's next push", dropped)
        self.resume()

    def resume(self) -> None:
        """Send what is pending now (a new link is up, or there is something new)."""
        if not self._pending or self._connection.closing:
            return
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = self._runtime.spawn(self._run())

    async def _run(self) -> None:
        await asyncio.sleep(0)  # let the messages of the same burst join the batch
        while self._pending and not self._connection.closing:
            self._before_send()
            ids = list(self._pending)[:MAX_BATCH]
            if await self._send(ids):
                self._retry.reset()
                continue
            self._wake.clear()
            try:  # until the retry delay passes, or something (a new link) wakes us
                await asyncio.wait_for(self._wake.wait(), self._retry.next_delay())
            except TimeoutError:
                pass

    async def _send(self, ids: list[Any]) -> bool:
        """One batch; True if it left the pending set (acknowledged, or refused for good)."""
        try:
            # Offline pushes can arrive before the register ack: wait for the link to be in place.
            link = await self._connection.wait_link(self.config.request_timeout)
            body = receipt_body(ids[0] if len(ids) == 1 else None, ids if len(ids) > 1 else None,
                                self._connection.user_id)
            reply = await link.call("message_delivered", body, self.config.request_timeout)
        except (NotConnectedError, ClientClosedError, TimeoutError, ConnectionLostError) as exc:
            log.info("delivered receipt for %d message(s) not acknowledged, kept: %s", len(ids), exc)
            return False
        if isinstance(reply, dict) and reply.get("success"):
            self._forget(ids)
            return True
        err = error_from_reply(reply)
        if err.code not in self.config.permanent_error_codes:
            log.info("delivered receipt for %d message(s) refused for now, kept: %s", len(ids), err)
            return False
        if len(ids) > 1:
            # One bad id refuses the whole batch: send them one by one, so only that one is dropped.
            for message_id in ids:
                await self._send([message_id])
            return True
        log.warning("delivered receipt for %s refused for good: %s", ids[0], err)
        self._forget(ids)
        return True

    def _forget(self, ids: list[Any]) -> None:
        for message_id in ids:
            self._pending.pop(message_id, None)
