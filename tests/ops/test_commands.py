"""The operator commands, run as an operator runs them (``python -m switchboard …`` in a child process with the
operator's certificate and NATS user, nothing of the services'), against a real deployment: what they print
matches what the system holds, and kick and send-system act through the real RPCs."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import nats
import nats.errors
import pytest

from switchboard.nats import Subjects
from switchboard.nats_auth import OPERATOR
from switchboard.runner import free_port
from tests.support.system import System
from tests.support.users import SocketUser, new_user_id, open_conversation


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Awaitable[Result]]


def operator_env(system: System, edges: list[str] | None = None, caller: str = OPERATOR) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "SWITCHBOARD_MYSQL_URL": system.mysql_url,
        "SWITCHBOARD_NATS_URL": system.nats.url,
        "SWITCHBOARD_NATS_PREFIX": system.prefix,
        "SWITCHBOARD_NATS_USER": OPERATOR,
        "SWITCHBOARD_NATS_PASSWORD": system.nats.auth.passwords[OPERATOR],
        "SWITCHBOARD_DEVICES_GRPC_TARGET": system.env["SWITCHBOARD_DEVICES_GRPC_TARGET"],
        "SWITCHBOARD_MESSAGING_GRPC_TARGET": system.env["SWITCHBOARD_MESSAGING_GRPC_TARGET"],
        "SWITCHBOARD_EDGE_ADMIN_URLS": ",".join(edges or [e.admin_url for e in system.edges]),
        **system.credentials(caller).env(),
    }


@pytest.fixture
async def ops(make_system: Callable[..., Awaitable[System]]) -> AsyncIterator[tuple[System, Run]]:
    """A private deployment (its counts are this test's alone) and a runner of the operator commands."""
    system = await make_system(edges=2)

    async def run(*argv: str, env: dict[str, str] | None = None) -> Result:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "switchboard", *argv, env=env or operator_env(system),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode is not None
        return Result(proc.returncode, out.decode(), err.decode())

    yield system, run


async def _user(system: System, role: str = "user", node: int = 0, user_id: int | None = None,
                device_id: str | None = None) -> SocketUser:
    uid = user_id or new_user_id()
    return await SocketUser(system.edges[node].url, uid, system.token(uid, role), device_id=device_id).join()


def _row(output: str, first_cell: str) -> list[str]:
    """The cells of the table row starting with ``first_cell``."""
    for line in output.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{output}")


def _rows(output: str) -> list[list[str]]:
    """The body rows of the table ``output`` starts with (after its header and dashes)."""
    return [re.split(r"\s{2,}", line.strip()) for line in output.splitlines()[2:] if line.strip()]


def _number(text: str) -> int:
    return int(text.replace(",", ""))


async def test_status_shows_each_edges_sockets_and_the_registry(ops: tuple[System, Run]) -> None:
    system, run = ops
    before = await run("status")
    assert before.code == 0, before.err + before.out
    online_before = _number(re.search(r"online users: ([\d,]+)", before.out).group(1))  # type: ignore[union-attr]
    users = [await _user(system, node=1) for _ in range(3)]
    try:
        after = await run("status")
        assert after.code == 0, after.err + after.out
        edge1, edge2 = (_row(after.out, e.admin_url) for e in system.edges)
        assert edge1[1] == edge2[1] == "ready"
        assert _number(edge2[2]) == 3 and _number(edge2[3]) == 3  # sockets, registered: this test's three
        assert _number(edge1[2]) == 0
        assert re.search(rf"online users: {online_before + 3:,}\b", after.out), after.out
        assert _number(_row(after.out, system.edges[1].node_id)[1]) >= 3  # the registry's sockets of that node
        for status in ("pending", "processing", "completed", "failed"):
            _row(after.out, status)
        assert "undelivered messages:" in after.out
        stream = _row(after.out, Subjects(system.prefix).inbox_stream)
        assert _number(stream[6]) >= 1  # replicas
    finally:
        for user in users:
            await user.close()


async def test_status_counts_the_offline_backlog_and_says_which_part_is_unreachable(ops: tuple[System, Run]) -> None:
    system, run = ops
    customer, agent = await _user(system), await _user(system, "agent", node=1)
    session_id = await open_conversation(customer, agent)
    await customer.close()
    await asyncio.sleep(0.5)  # the customer is offline
    count = lambda out: _number(re.search(r"undelivered messages: ([\d,]+)", out).group(1))  # type: ignore[union-attr]  # noqa: E731
    before = count((await run("status")).out)
    for i in range(2):
        reply = await agent.call("send_message", {"session_id": session_id, "message": f"while away {i}"})
        assert reply["success"], reply
    await agent.close()
    dead = f"http://127.0.0.1:{free_port()}"
    result = await run("status", env=operator_env(system, edges=[system.edges[0].admin_url, dead]))
    assert result.code == 1  # a part was unreachable ...
    assert "unreachable" in _row(result.out, dead)[1]
    assert count(result.out) == before + 2  # ... and the others still reported


async def test_sessions_list_and_show(ops: tuple[System, Run]) -> None:
    system, run = ops
    customer, agent = await _user(system), await _user(system, "agent")
    try:
        session_id = await open_conversation(customer, agent)
        for text in ("first words", "second words", "third words"):
            assert (await customer.call("send_message", {"session_id": session_id, "message": text}))["success"]
        listed = await run("sessions", "list", "--user", str(customer.user_id))
        assert listed.code == 0, listed.err
        row = _row(listed.out, session_id)
        assert row[1:4] == [f"{customer.user_id:,}", f"{agent.user_id:,}", "open"] and row[4] == "3"
        assert "sessions read: 1" in listed.err  # progress, apart from the table
        assert session_id not in (await run("sessions", "list", "--waiting")).out  # it has an agent
        shown = await run("sessions", "show", session_id, "--messages", "2")
        assert shown.code == 0, shown.err
        assert "second words" in shown.out and "third words" in shown.out and "first words" not in shown.out
        missing = await run("sessions", "show", "no-such-session")
        assert missing.code == 1 and "NOT_FOUND" in missing.err
    finally:
        await customer.close()
        await agent.close()


async def test_devices_list_and_kick_through_the_registry(ops: tuple[System, Run]) -> None:
    system, run = ops
    uid = new_user_id()
    phone = await _user(system, user_id=uid, device_id="phone")
    laptop = await _user(system, user_id=uid, node=1, device_id="laptop")
    try:
        listed = await run("devices", "list", "--user", str(uid))
        assert listed.code == 0, listed.err
        assert _row(listed.out, "phone")[4:7] == ["yes", "1", "yes"]  # online, sockets, active
        assert _row(listed.out, "laptop")[4:7] == ["yes", "1", "yes"]
        kicked = await run("kick", "--user", str(uid), "--device", "phone", "--reason", "lost phone")
        assert kicked.code == 0, kicked.err
        assert _row(kicked.out, "phone")[1] == "1"
        assert (await phone.wait_for("kicked"))["reason"] == "lost phone"
        after = await run("devices", "list", "--user", str(uid))
        assert _row(after.out, "phone")[4:7] == ["no", "0", "no"]
        assert _row(after.out, "laptop")[4] == "yes"
        rest = await run("kick", "--user", str(uid))  # every device still active
        assert _row(rest.out, "laptop")[1] == "1" and "phone" not in rest.out
        assert "devices kicked: 1/1" in rest.err
        await laptop.wait_for("kicked")
    finally:
        await phone.close()
        await laptop.close()


async def test_send_system_reaches_the_customer_as_one_message(ops: tuple[System, Run]) -> None:
    system, run = ops
    customer, agent = await _user(system), await _user(system, "agent", node=1)
    try:
        session_id = await open_conversation(customer, agent)
        args = ("send-system", "--user", str(customer.user_id), "--text", "We are closing at six.",
                "--idempotency-key", "closing-notice")
        sent = await run(*args)
        assert sent.code == 0, sent.err
        (row,) = _rows(sent.out)
        assert row[1] == session_id and row[4] == "no"
        message = await customer.wait_for("new_message")
        assert message["text"] == "We are closing at six." and message["from"] == "system"
        again = await run(*args)
        assert _rows(again.out)[0][:2] == row[:2] and _rows(again.out)[0][4] == "yes"  # the same key: no new message
        await asyncio.sleep(0.5)
        # A repeat may be pushed again (clients drop a message id they have), never as a second message.
        assert {m["id"] for m in customer.events["new_message"]} == {message["id"]}
    finally:
        await customer.close()
        await agent.close()


async def test_another_certificate_is_refused(ops: tuple[System, Run]) -> None:
    system, run = ops
    refused = await run("devices", "list", "--user", "1", env=operator_env(system, caller="reports"))
    assert refused.code == 1 and "FORBIDDEN" in refused.err


async def test_the_operator_nats_user_reads_stream_state_only(ops: tuple[System, Run]) -> None:
    system, _ = ops
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(system.nats.auth.url(system.nats.url, OPERATOR), error_cb=on_error)
    stream = Subjects(system.prefix).inbox_stream
    try:
        info = await nc.jetstream().stream_info(stream)
        assert info.config.name == stream
        with pytest.raises((nats.errors.TimeoutError, nats.errors.NoRespondersError)):  # not allowed: no answer
            await nc.request(f"$JS.API.STREAM.DELETE.{stream}", b"", timeout=1)
        await nc.subscribe(f"{system.prefix}.user.>")  # no reading users' traffic
        await nc.publish(Subjects(system.prefix).user_inbox(1), b"{}")  # no writing it
        await nc.flush()
        await asyncio.sleep(0.3)
        violations = " ".join(str(e).lower() for e in errors)
        assert "permissions violation for subscription" in violations
        assert "permissions violation for publish" in violations
        assert (await nc.jetstream().stream_info(stream)).config.name == stream  # still there
    finally:
        await nc.close()
