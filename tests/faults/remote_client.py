"""A customer device in its own process, so the fault suite can SIGKILL the client itself.

``python -m tests.faults.remote_client --urls … --user-id … --token … --device-id … --queue outbox.db
--journal device.jsonl --stop-file f --die-file f --session id --interval s``: connects with a persisted
outbox, sends one message every ``interval`` to the session until the stop file exists, and keeps receiving
until SIGTERM. When the die file appears it queues a burst and SIGKILLs itself
(:func:`die_with_full_outbox`). Every fact goes to the journal (:mod:`tests.faults.records`), appended across
restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from pathlib import Path

from tests.faults.driver import LocalDevice, keep_sending


def die_with_full_outbox(device: LocalDevice, session_id: str, burst: int = 20) -> None:
    """Queue a burst (persisted before ``send_message`` returns) and die at once: SIGKILL with messages in
    the outbox, the first of them possibly in flight, none acknowledged yet."""
    for _ in range(burst):
        device.send(session_id)
    device.recorder.note("dying", pending=device.pending())
    os.kill(os.getpid(), signal.SIGKILL)


async def run(args: argparse.Namespace) -> None:
    stop_sending, terminate = asyncio.Event(), asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminate.set)
    with open(args.journal, "a") as journal:  # noqa: ASYNC230 - opened once, before any traffic
        device = LocalDevice(args.user_id, "user", args.token, args.urls.split(","), queue_path=Path(args.queue),
                             journal=journal, device_id=args.device_id)
        await device.connect()
        session_id = args.session
        device.recorder.note("session", session_id=session_id)  # connected: the parent may go on
        sending = asyncio.create_task(keep_sending(device, session_id, args.interval, stop_sending))
        while not terminate.is_set():
            if os.path.exists(args.stop_file):  # noqa: ASYNC240 - a stat every 100 ms
                stop_sending.set()
            if os.path.exists(args.die_file):  # noqa: ASYNC240
                os.unlink(args.die_file)
                die_with_full_outbox(device, session_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(terminate.wait(), 0.1)
        stop_sending.set()
        await sending
        await device.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--urls", "--token", "--device-id", "--queue", "--journal", "--stop-file", "--die-file", "--session"):
        parser.add_argument(name, required=True)
    parser.add_argument("--user-id", type=int, required=True)
    parser.add_argument("--interval", type=float, required=True)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
