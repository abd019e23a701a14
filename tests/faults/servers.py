"""A private MariaDB server the fault suite may kill, hang and restart.

The machine's shared MariaDB (3306) serves other people and the rest of the test suite: the suite never signals
it. Instead it starts its own ``mariadbd`` on a free port over a throw-away data directory, and stops it only
through the PID it started. Restarting reuses the port and the data directory, as a crashed production server
would come back.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from pathlib import Path

from switchboard.runner import ManagedProcess, free_port, wait_for_port

MARIADBD = "/usr/sbin/mariadbd"
INSTALL_DB = "/usr/bin/mariadb-install-db"


def mariadb_available() -> bool:
    return Path(MARIADBD).exists() and Path(INSTALL_DB).exists()


class MariaDB(ManagedProcess):
    """``mariadbd`` on 127.0.0.1:<free port>, root without a password, small buffers (the machine is shared)."""

    def __init__(self, base_dir: Path, log_path: Path | None = None) -> None:
        self.base_dir, self.port = base_dir, free_port()
        self.datadir = base_dir / "data"
        argv = [
            MARIADBD, "--no-defaults", f"--datadir={self.datadir}", f"--port={self.port}",
            "--bind-address=127.0.0.1", f"--socket={base_dir / 'mysqld.sock'}", f"--pid-file={base_dir / 'pid'}",
            "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=48M", "--skip-log-bin",
            "--max-connections=500", "--skip-name-resolve",
        ]
        if os.geteuid() == 0:
            argv.append("--user=root")  # mariadbd refuses to run as root unless told to
        super().__init__("mariadb", argv, os.environ, log_path)

    @property
    def server_url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}"

    def install(self) -> None:
        """A fresh data directory (system tables, root@localhost without password)."""
        shutil.rmtree(self.datadir, ignore_errors=True)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        user = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(
            [INSTALL_DB, "--no-defaults", f"--datadir={self.datadir}", "--auth-root-authentication-method=normal",
             "--skip-test-db", *user],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=120)

    async def start(self) -> None:
        await super().start()
        await wait_for_port("127.0.0.1", self.port, 60, self.proc)

    async def resume(self) -> None:
        self.signal(signal.SIGCONT)

    async def kill(self) -> None:
        """SIGKILL and wait, so the port is free for the restart (InnoDB recovers at the next start)."""
        await super().kill()
        await asyncio.sleep(0.2)

    async def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (a hung server is resumed first, or it would not act on it), SIGKILL after ``timeout``."""
        await self.resume()
        await super().stop(timeout)
