"""Property-based fuzzing (hypothesis) against a running edge: every event's payload, and raw engine.io /
socket.io packets. The server never answers INTERNAL, never crashes; each event gets ``{"success": false,
"error": {code, message}}`` (or success), each malformed packet a clean close."""

from __future__ import annotations

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.contract import EVENTS
from switchboard.contract.fields import Bool, IdList, Int, Obj, Str
from tests.support.raw import RawSocket
from tests.support.users import SocketUser

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=10), inner, max_size=4), max_leaves=12)
numeric_strings = st.sampled_from(["²", "--5", "１２", " 7", "7 ", "+1", "0x1f", "1e3", "٣", "9" * 30, "-0", "007"])


def _field_values(field) -> st.SearchStrategy:
    """Values near and beyond the field's limits, of the right type and of wrong types."""
    if isinstance(field, Str):
        return st.text(max_size=field.max_len + 2) | st.just("x" * (field.max_len + 1)) | json_values
    if isinstance(field, Int):
        return (st.integers(min_value=-(2**70), max_value=2**70) | numeric_strings
                | st.integers(min_value=0, max_value=10**6).map(str) | json_values)
    if isinstance(field, IdList):
        return st.lists(st.integers(min_value=-5, max_value=2**64) | numeric_strings, max_size=field.max_items + 2)
    if isinstance(field, Bool):
        return st.booleans() | json_values
    if isinstance(field, Obj):
        return st.fixed_dictionaries({}, optional={f.name: _field_values(f) for f in field.fields}) | json_values
    return json_values


def payloads(event) -> st.SearchStrategy:
    fields = {f.name: _field_values(f) for f in event.fields}
    return st.fixed_dictionaries({}, optional=fields) | json_values


events_and_payloads = st.sampled_from(sorted(EVENTS)).flatmap(lambda n: st.tuples(st.just(n), payloads(EVENTS[n])))

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _check(event: str, reply: object) -> None:
    assert isinstance(reply, dict), (event, reply)
    if not reply.get("success"):
        error = reply["error"]
        assert set(error) >= {"code", "message"}, (event, reply)
        assert error["code"] != "INTERNAL", (event, reply)


async def test_fuzzed_payloads_get_a_clear_answer(system) -> None:
    loop = asyncio.get_running_loop()
    customer = await SocketUser(system.edges[0].url, 1801, system.token(1801)).join()
    agent = await SocketUser(system.edges[0].url, 1802, system.token(1802, "agent")).join()

    @FUZZ
    @given(events_and_payloads, st.sampled_from(["customer", "agent"]))
    def run(case, who) -> None:
        event, payload = case
        user = customer if who == "customer" else agent
        if event in ("kick_device", "register"):  # would close or rebind the fuzzing sockets themselves
            payload = {**payload, "device_id": "fuzz-none"} if isinstance(payload, dict) else payload
        reply = asyncio.run_coroutine_threadsafe(user.call(event, payload), loop).result(30)
        _check(event, reply)

    await asyncio.to_thread(run)
    assert customer.sio.connected and agent.sio.connected
    await customer.close()
    await agent.close()


packet_texts = (
    st.text(max_size=60).map(lambda t: "4" + t)
    | st.tuples(st.sampled_from(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]), st.text(max_size=40)).map(
        lambda p: "4" + p[0] + p[1])
    | json_values.map(lambda v: "42" + json.dumps(v))
    | st.tuples(st.integers(min_value=0, max_value=2**70), json_values).map(lambda p: f"42{p[0]}" + json.dumps(p[1]))
    | st.text(max_size=20)
)


async def test_fuzzed_raw_packets_never_crash_or_answer_internal(system) -> None:
    """Each packet on a fresh joined connection: it is answered (an ack without INTERNAL), ignored, or the
    connection is closed cleanly; the edge keeps serving."""
    loop = asyncio.get_running_loop()
    url = system.edges[0].ws_url

    async def one(text: str) -> None:
        raw = await RawSocket.open(url)
        await raw.join()
        await raw.ws.send(text)
        await raw.ws.send('42999999["heartbeat",{}]')  # a marker: answered unless the connection was closed
        try:
            while True:
                packet = await raw.recv(timeout=10)
                assert "INTERNAL" not in packet, (text, packet)
                if packet.startswith("43999999"):
                    break
        except Exception as exc:  # closed by the server: the clean outcome for a malformed packet
            assert type(exc).__name__ in ("ConnectionClosedOK", "ConnectionClosedError"), (text, repr(exc))
        finally:
            await raw.close()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(packet_texts)
    def run(text: str) -> None:
        asyncio.run_coroutine_threadsafe(one(text), loop).result(60)

    await asyncio.to_thread(run)
    user = await SocketUser(system.edges[0].url, 1803, system.token(1803)).join()  # still serving
    await user.close()
