"""The send queue: order, the explicit size limit, and persistence across a process crash."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from client.errors import QueueFullError
from client.outbox import Outbox, OutboxEntry


def entry(n: int, session: str = "s1", user_id: int | None = 1) -> OutboxEntry:
    return OutboxEntry(client_msg_id=f"c{n}", session_id=session, message=f"m{n}", user_id=user_id)


def test_keeps_send_order_and_removes_acked() -> None:
    box = Outbox(lambda: 10)
    for n in range(5):
        box.add(entry(n))
    box.remove("c2")
    assert [e.client_msg_id for e in box.pending()] == ["c0", "c1", "c3", "c4"]


def test_full_queue_raises_and_keeps_everything() -> None:
    limit = {"n": 3}
    box = Outbox(lambda: limit["n"])
    for n in range(3):
        box.add(entry(n))
    with pytest.raises(QueueFullError):
        box.add(entry(3))
    assert len(box) == 3
    limit["n"] = 4  # max_queue_size changed on a live client
    box.add(entry(3))
    assert len(box) == 4


def test_persisted_entries_survive_a_new_outbox(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    box = Outbox(lambda: 10, path)
    for n in range(3):
        box.add(entry(n))
    box.remove("c1")
    box.close()
    again = Outbox(lambda: 10, path)
    assert again.load(1) == 2
    assert [(e.client_msg_id, e.message) for e in again.pending()] == [("c0", "m0"), ("c2", "m2")]


def test_load_is_per_user_and_claims_unowned(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    box = Outbox(lambda: 10, path)
    box.add(entry(1, user_id=1))
    box.add(entry(2, user_id=2))
    box.add(entry(3, user_id=None))  # queued before connect(): belongs to whoever connects next
    box.close()
    again = Outbox(lambda: 10, path)
    again.load(2)
    assert [e.client_msg_id for e in again.pending()] == ["c2", "c3"]


def test_load_ignores_the_limit_rather_than_losing_messages(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    box = Outbox(lambda: 10, path)
    for n in range(5):
        box.add(entry(n))
    box.close()
    again = Outbox(lambda: 2, path)
    assert again.load(1) == 5
    with pytest.raises(QueueFullError):
        again.add(entry(9))


def test_survives_a_killed_process(tmp_path: Path) -> None:
    """The writer dies with SIGKILL right after queueing: nothing it queued is lost."""
    path = tmp_path / "outbox.db"
    script = (
        "import os, signal\n"
        "from client.outbox import Outbox, OutboxEntry\n"
        f"box = Outbox(lambda: 100, {str(path)!r})\n"
        "for n in range(20):\n"
        "    box.add(OutboxEntry(client_msg_id=f'c{n}', session_id='s', message=f'm{n}', user_id=7))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2], check=False)
    assert proc.returncode == -9
    again = Outbox(lambda: 100, path)
    again.load(7)
    assert [e.message for e in again.pending()] == [f"m{n}" for n in range(20)]


def test_concurrent_adds_from_many_threads(tmp_path: Path) -> None:
    box = Outbox(lambda: 10_000, tmp_path / "outbox.db")

    def worker(t: int) -> None:
        for n in range(50):
            box.add(entry(t * 1000 + n))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(box) == 400
    box.close()
    assert Outbox(lambda: 10_000, tmp_path / "outbox.db").load(1) == 400
