"""``switchboard up`` as a real process: its children die with it, a port held by another process makes it
fail instead of reporting someone else's system, SIGTERM stops everything within 10 s with clients on, and the
operator's commands find it through its data dir."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest

from switchboard import certs
from switchboard.auth import issue_token
from switchboard.datadir import DataDir
from switchboard.db import MySQLURL
from switchboard.deployment import dev_pki
from switchboard.nats import Subjects
from switchboard.nats_auth import ROLE_OF_SERVICE
from switchboard.runner import free_port
from switchboard.settings import CommonSettings
from tests.support.users import SocketUser

MYSQL_SERVER = "mysql://root@127.0.0.1:3306"
JWT_SECRET = "supervision-secret-that-is-long-enough"
UP_READY_SECONDS = 90  # five processes start one after the other on a shared 2-core machine
STOP_SECONDS = 10  # the spec's bound for SIGTERM, clients connected


PORTS = ("EDGE", "EDGE_ADMIN", "MESSAGING_GRPC", "MESSAGING_HTTP", "DEVICES_GRPC", "DEVICES_HTTP", "NOTIFICATIONS_HTTP")


def _ports() -> dict[str, str]:
    """Free ports for every listener of one ``up``, as its environment."""
    ports = {name: free_port() for name in PORTS}
    env = {f"SWITCHBOARD_{name}_PORT": str(port) for name, port in ports.items()}
    env["SWITCHBOARD_MESSAGING_GRPC_TARGET"] = f"127.0.0.1:{ports['MESSAGING_GRPC']}"
    env["SWITCHBOARD_DEVICES_GRPC_TARGET"] = f"127.0.0.1:{ports['DEVICES_GRPC']}"
    return env


@pytest.fixture(scope="module")
def mysql_url() -> Iterator[str]:
    """A database of its own (``up`` migrates it), dropped afterwards."""
    url = f"{MYSQL_SERVER}/sb_sup_{uuid.uuid4().hex[:10]}"
    yield url
    target = MySQLURL.parse(url)
    conn = pymysql.connect(host=target.host, port=target.port, user=target.user, password=target.password)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{target.database}`")
    conn.close()


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (state, ppid, ...), or None if there is no such pid."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()


def alive(pid: int) -> bool:
    """Running or stopped; a zombie waiting for its reaper is gone."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        fields = _stat(int(entry.name)) if entry.name.isdigit() else None
        if fields is not None and int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """The pids still alive after ``timeout`` seconds (polling)."""
    deadline = time.monotonic() + timeout
    while (left := [p for p in pids if alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def ready_pid(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as resp:
        return int(json.loads(resp.read())["pid"])


class Up:
    """``python -m switchboard up`` in a process of this test's own, output to a log file. Whatever it leaves
    behind (the tests' failures) is killed at the end, by pid: only its own children."""

    def __init__(self, mysql_url: str, log: Path, env: dict[str, str] | None = None) -> None:
        self.env = {**os.environ, "SWITCHBOARD_MYSQL_URL": mysql_url, "SWITCHBOARD_JWT_SECRET": JWT_SECRET,
                    "SWITCHBOARD_LOG_FORMAT": "text", **(env or _ports())}
        self.env.pop("SWITCHBOARD_NATS_URL", None)
        self.log = log
        self.nats_port = free_port()
        self._out = open(log, "wb")  # closed in kill_all
        self.data = DataDir(log.with_suffix(".data"))
        argv = ["up", "--nats-port", str(self.nats_port), "--data-dir", str(self.data.root)]
        self.proc = subprocess.Popen([sys.executable, "-m", "switchboard", *argv],
                                     env=self.env, stdout=self._out, stderr=subprocess.STDOUT)
        self.children: list[int] = []

    def nats_login(self, service: str) -> dict[str, str]:
        """The credentials ``up`` gave ``service`` for its bundled NATS (kept in its data dir)."""
        prefix = self.env.get("SWITCHBOARD_NATS_PREFIX", CommonSettings.nats_prefix)
        return self.data.nats_auth(prefix).env(ROLE_OF_SERVICE[service])

    def port(self, name: str) -> int:
        return int(self.env[f"SWITCHBOARD_{name}_PORT"])

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_up(self) -> list[int]:
        """Until it says it is up; its children's pids."""
        deadline = time.monotonic() + UP_READY_SECONDS
        while "switchboard is up" not in self.output():
            assert self.proc.poll() is None, f"up exited with {self.proc.returncode}:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"up not up after {UP_READY_SECONDS}s:\n{self.output()[-3000:]}"
            time.sleep(0.1)
        self.children = children(self.proc.pid)
        assert len(self.children) == 5, self.children  # nats, devices, messaging, notifications, edge
        return self.children

    def kill_all(self) -> None:
        for pid in {self.proc.pid, *self.children, *children(self.proc.pid)}:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait()
        self._out.close()


@pytest.fixture(scope="module")
def running(mysql_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    """One ``up`` that the port tests find in their way; not stopped before the module ends."""
    up = Up(mysql_url, tmp_path_factory.mktemp("running") / "up.log")
    try:
        up.wait_up()
        yield up
    finally:
        up.kill_all()


@pytest.fixture
def start_up(mysql_url: str, tmp_path: Path) -> Iterator[Callable[..., Up]]:
    started: list[Up] = []

    def start(env: dict[str, str] | None = None) -> Up:
        up = Up(mysql_url, tmp_path / f"up-{len(started) + 1}.log", env)
        started.append(up)
        return up

    yield start
    for up in started:
        up.kill_all()


def test_up_serves_the_pages_and_says_its_development_token_endpoint_is_on(running: Up) -> None:
    assert "dev tokens: ON" in running.output()
    edge = f"http://127.0.0.1:{running.port('EDGE')}"
    minted = urllib.request.Request(edge + "/dev/token", data=json.dumps({"user_id": 5, "role": "agent"}).encode(),
                                    headers={"content-type": "application/json"})
    with urllib.request.urlopen(minted, timeout=10) as resp:
        assert json.loads(resp.read())["role"] == "agent"
    with urllib.request.urlopen(edge + "/console/", timeout=10) as resp:
        assert resp.headers["content-type"] == "text/html; charset=utf-8"


def test_children_die_with_a_sigkilled_up(start_up) -> None:
    up = start_up()
    pids = up.wait_up()
    os.kill(up.proc.pid, signal.SIGKILL)
    up.proc.wait()
    assert wait_gone(pids, 5) == [], "children outlived their supervisor"


def test_up_fails_when_another_process_answers_on_a_port(running: Up, start_up) -> None:
    """A second ``up`` on the same service ports (its own NATS port) finds the first one's processes there: it
    must say so and exit non-zero, leaving nothing behind and the first one untouched."""
    second = start_up(env={f"SWITCHBOARD_{name}_PORT": running.env[f"SWITCHBOARD_{name}_PORT"] for name in PORTS})
    assert second.proc.wait(timeout=60) != 0
    out = second.output()
    assert "switchboard is up" not in out
    assert "switchboard up failed" in out and "a stale process holds it" in out, out[-3000:]
    assert wait_gone(children(second.proc.pid), 5) == []
    assert all(alive(p) for p in running.children)
    assert ready_pid(running.port("DEVICES_HTTP")) in running.children


def _operator_command(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """An operator command from another terminal: no ``SWITCHBOARD_*`` variable, nothing but ``up``'s data dir."""
    return subprocess.run([sys.executable, "-m", "switchboard", *argv], env={"PATH": os.environ["PATH"]}, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_status_in_another_terminal_finds_up_through_its_data_dir(running: Up, tmp_path: Path) -> None:
    """``up`` gives the operator a NATS user and a client certificate of their own (never a service's) and keeps
    where its parts are; ``switchboard status`` reads every part with them: the edge, the registry over gRPC,
    MySQL and the inbox stream over NATS."""
    kept = running.data.read_operator_env()
    assert kept is not None and kept["SWITCHBOARD_NATS_USER"] == "operator"
    assert Path(kept["SWITCHBOARD_GRPC_CERT_FILE"]).name == "operator.pem"
    stream = Subjects(running.env.get("SWITCHBOARD_NATS_PREFIX", CommonSettings.nats_prefix)).inbox_stream
    edge = f"http://127.0.0.1:{running.port('EDGE_ADMIN')}"
    (tmp_path / ".switchboard").symlink_to(running.data.root.resolve())  # up's default data dir, seen from here
    for argv in (("status", "--data-dir", str(running.data.root)), ("status",)):
        done = _operator_command(*argv, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert re.search(rf"^{re.escape(edge)}\s+ready\s", done.stdout, re.MULTILINE), done.stdout
        assert re.search(rf"^{stream}\s+\d", done.stdout, re.MULTILINE), done.stdout
        assert "online users: " in done.stdout and "undelivered messages: " in done.stdout


def test_an_operator_command_names_a_data_dir_up_never_used(tmp_path: Path) -> None:
    done = _operator_command("status", "--data-dir", str(tmp_path / "nothing"), cwd=tmp_path)
    assert done.returncode != 0
    assert f"NOT_FOUND: no `switchboard up` has started with data dir {tmp_path / 'nothing'}" in done.stderr


@pytest.mark.parametrize(("service", "taken"), [("messaging", "MESSAGING_GRPC"), ("devices", "DEVICES_HTTP"),
                                                ("connection", "EDGE")])
def test_a_service_refuses_a_taken_port(running: Up, service: str, taken: str) -> None:
    """Started on a port another service holds, a service exits non-zero with one clear line. gRPC would
    otherwise share the port (SO_REUSEPORT) and take half its calls."""
    key = f"SWITCHBOARD_{taken}_PORT"
    env = {**running.env, **_ports(), **certs.service_env(dev_pki(), service), key: running.env[key],
           "SWITCHBOARD_NATS_URL": f"nats://127.0.0.1:{running.nats_port}", **running.nats_login(service)}
    result = subprocess.run([sys.executable, "-m", "switchboard", "serve", service], env=env, timeout=60,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert result.returncode != 0
    assert "another process on that port?" in result.stdout, result.stdout[-3000:]


@pytest.mark.parametrize("edge_frozen", [False, True], ids=["edge-draining", "edge-frozen"])
async def test_sigterm_stops_everything_within_10s_with_clients_connected(start_up, edge_frozen: bool) -> None:
    """Also when a child does not stop on its own (a SIGSTOPped edge): ``up`` kills what outlasts its budget."""
    up = start_up()
    pids = await asyncio.to_thread(up.wait_up)
    user = SocketUser(f"http://127.0.0.1:{up.port('EDGE')}", 4242, issue_token(4242, "user", JWT_SECRET))
    await user.join()
    if edge_frozen:
        os.kill(ready_pid(up.port("EDGE_ADMIN")), signal.SIGSTOP)
    up.proc.send_signal(signal.SIGTERM)
    left = await asyncio.to_thread(wait_gone, [up.proc.pid, *pids], STOP_SECONDS)
    await user.sio.disconnect()
    assert left == [], up.output()[-3000:]
    assert up.proc.wait() == 0, up.output()[-3000:]
