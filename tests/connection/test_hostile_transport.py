"""Attacks on the edge's transport, made as an attacker would: raw websockets speaking engine.io by hand. Memory
is bounded by behaviour: the edge's RSS growth over N attackers stays under a bound derived from the limits."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from switchboard.contract import MAX_PACKET_BYTES
from tests.support.polling import eventually
from tests.support.raw import RawSocket, rss_mib
from tests.support.users import SocketUser, open_conversation

MIB = 1 << 20
# What one connection may make the edge hold beyond the packet itself: uvicorn's read buffer and the asyncio
# transport's buffers (64 KiB each at most) plus per-connection objects; and allocator noise for the whole run.
PER_CONNECTION_OVERHEAD = 256 * 1024
NOISE = 32 * MIB


async def _flood(ws_url: str, size: int) -> bool:
    """Handshake only, then one websocket frame of ``size`` bytes; True when the server closed the socket."""
    raw = await RawSocket.open(ws_url)
    with contextlib.suppress(ConnectionClosed, ConnectionResetError, BrokenPipeError):
        await raw.ws.send("4" + "x" * size)
    return await raw.closed()


async def test_a_frame_beyond_the_largest_legal_packet_is_refused_before_it_is_buffered(make_system) -> None:
    """40 handshake-only sockets each send a 16 MiB frame, twice: the edge used to buffer every one whole (379 →
    2,192 MiB). Bound: each may cost one legal packet plus a connection's buffers —
    2 × 40 × (MAX_PACKET_BYTES + 256 KiB) + 32 MiB ≈ 52 MiB; without the limit the growth is ≥ 640 MiB."""
    system = await make_system(edges=1, env={"SWITCHBOARD_MAX_CONNECTIONS_PER_IP": "0"})
    edge = system.edges[0]
    pid = system.pids[edge.node_id]
    before = rss_mib(pid)
    for _ in range(2):
        closed = await asyncio.gather(*(_flood(edge.ws_url, 16 * MIB) for _ in range(40)))
        assert all(closed)
    growth = (rss_mib(pid) - before) * MIB
    bound = 2 * 40 * (MAX_PACKET_BYTES + PER_CONNECTION_OVERHEAD) + NOISE
    print(f"80 × 16 MiB frames: edge RSS {before:.0f} MiB, grew {growth / MIB:.1f} MiB (bound {bound / MIB:.1f})")
    assert growth < bound, f"edge grew {growth / MIB:.1f} MiB, bound {bound / MIB:.1f} MiB"
    # The largest legal packet still goes through.
    user = await SocketUser(edge.url, 1401, system.token(1401)).join()
    await user.close()


async def test_a_reader_that_stops_reading_is_dropped_and_its_backlog_released(make_system) -> None:
    """A registered user asks for 100 history pages of ~2 MB (200 messages of ~10,000 characters) and never reads
    them (rate limits lifted, so only the backlog bound protects). The socket's backlog is bounded
    (SWITCHBOARD_SOCKET_BACKLOG_BYTES, 4 MiB here) and the socket dropped past it. Bound on the edge's growth: the
    queue and the batch its writer took (2 × the limit), the replies of the events in flight
    (SWITCHBOARD_MAX_EVENTS_IN_FLIGHT = 4 here, each ~3 copies of 2 MiB: protobuf, dicts, JSON), a connection's
    buffers, and noise ≈ 72 MiB; without the bound the growth is ≥ 186 MiB (every reply queued)."""
    backlog, in_flight = 4 * MIB, 4
    system = await make_system(edges=1, env={
        "SWITCHBOARD_SOCKET_BACKLOG_BYTES": str(backlog), "SWITCHBOARD_MAX_EVENTS_IN_FLIGHT": str(in_flight),
        "SWITCHBOARD_READ_RATE_PER_SECOND": "100000", "SWITCHBOARD_READ_BURST": "100000"})
    edge = system.edges[0]
    customer = await SocketUser(edge.url, 1411, system.token(1411)).join()
    agent = await SocketUser(edge.url, 1412, system.token(1412, "agent")).join()
    session_id = await open_conversation(customer, agent)
    text = "x" * 9_990
    for i in range(200):
        assert (await customer.call("send_message", {"session_id": session_id, "message": f"{i}{text}"}))["success"]
    await customer.close()
    await agent.close()

    pid = system.pids[edge.node_id]
    before = rss_mib(pid)
    reader = await RawSocket.open(edge.ws_url, max_queue=1)
    await reader.join()
    assert (await reader.register(1411, system.token(1411)))["success"]
    for _ in range(100):  # paced, so that each is handled rather than refused as one too many in flight
        await reader.emit("sync", {"session_id": session_id, "limit": 200})
        await asyncio.sleep(0.05)
    # The reader never reads: the server drops the connection (its close arrives when we look again).
    dropped = await eventually(lambda: _metric(system, "switchboard_edge_backlog_overflows_total"), timeout=60)
    assert dropped >= 1
    growth = (rss_mib(pid) - before) * MIB
    bound = 2 * backlog + in_flight * 3 * 2 * MIB + PER_CONNECTION_OVERHEAD + NOISE
    print(f"100 unread sync pages: edge RSS {before:.0f} MiB, grew {growth / MIB:.1f} MiB (bound {bound / MIB:.1f})")
    assert growth < bound, f"edge grew {growth / MIB:.1f} MiB, bound {bound / MIB:.1f} MiB"
    assert await reader.closed(timeout=120)  # once the replies already in flight are out


async def _metric(system, name: str) -> float:
    import aiohttp
    async with aiohttp.ClientSession() as http, http.get(f"{system.edges[0].admin_url}/metrics") as response:
        text = await response.text()
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name))


async def test_event_packets_named_connect_or_disconnect_reach_no_handler(system, connect) -> None:
    """They used to run the server's own lifecycle handlers: a forged IP and user agent stored, or the socket
    unregistered while it stayed connected."""
    watcher = await connect("user")
    raw = await RawSocket.open(system.edges[0].ws_url)
    await raw.join()
    assert (await raw.register(watcher.user_id, system.token(watcher.user_id), device_id="raw-dev"))["success"]
    forged = {"asgi.scope": {"client": ["203.0.113.66", 1]}, "HTTP_USER_AGENT": "forged"}
    for event, args in (("connect", [forged]), ("disconnect", ["client disconnect"]), ("connect_error", [{}])):
        reply = await raw.call(event, *args)
        assert reply["success"] is False and reply["error"]["code"] == "INVALID_ARGUMENT", (event, reply)
    devices = (await watcher.call("list_devices", {}))["devices"]
    raw_device = next(d for d in devices if d["device_id"] == "raw-dev")
    assert raw_device["online"] and raw_device["connections"] == 1  # still registered, not unregistered
    rows = await system.query("SELECT ip_address, user_agent FROM user_connections WHERE device_id = 'raw-dev'")
    assert rows and all(ip != "203.0.113.66" and agent != "forged" for ip, agent in rows)
    assert (await raw.call("heartbeat", {}))["success"]
    await raw.close()


async def test_a_kicked_socket_is_closed_not_just_left_in_the_namespace(system, connect) -> None:
    """``kicked`` used to send socket.io ``41`` only: the transport stayed open and ``40`` rejoined it."""
    me = await connect("user", device_id="keeper")
    raw = await RawSocket.open(system.edges[0].ws_url)
    await raw.join()
    assert (await raw.register(me.user_id, system.token(me.user_id), device_id="victim"))["success"]
    assert (await me.call("kick_device", {"device_id": "victim"}))["success"]
    assert await raw.closed()
    with pytest.raises(ConnectionClosed):
        await raw.join()


async def test_a_silent_socket_is_closed_at_the_transport(make_system) -> None:
    system = await make_system(edges=1, env={"SWITCHBOARD_HEARTBEAT_TIMEOUT_SECONDS": "1"})
    raw = await RawSocket.open(system.edges[0].ws_url)
    await raw.join()
    assert (await raw.register(1421, system.token(1421)))["success"]
    assert await raw.closed()  # the reaper closed the engine.io connection; no 40 can rejoin it


async def test_sockets_that_never_register_are_closed_and_connections_per_address_are_capped(make_system) -> None:
    system = await make_system(edges=1, env={"SWITCHBOARD_MAX_CONNECTIONS_PER_IP": "3",
                                             "SWITCHBOARD_REGISTER_TIMEOUT_SECONDS": "2"})
    url = system.edges[0].ws_url
    handshake_only = [await RawSocket.open(url) for _ in range(2)]
    joined_only = await RawSocket.open(url)
    await joined_only.join()
    with pytest.raises(InvalidStatus) as refused:
        await websockets.connect(url)
    assert refused.value.response.status_code in (401, 403)  # engine.io refuses; uvicorn answers the upgrade 403
    # None registers: the deadline closes all three, and the address may connect again.
    assert all(await asyncio.gather(*(s.closed() for s in [*handshake_only, joined_only])))
    again = await eventually(lambda: _try_open(url))
    await again.close()


async def _try_open(url: str) -> RawSocket | None:
    try:
        return await RawSocket.open(url)
    except InvalidStatus:
        return None


async def test_malformed_packets_cost_one_rate_limited_line_each_not_a_traceback(make_system) -> None:
    """Every malformed packet used to write a multi-line ERROR traceback (1,000 seven-byte packets → 1.37 MB of
    log). Now: the connection is closed, and at most 10 one-line warnings per 10 s are written."""
    system = await make_system(edges=1, env={"SWITCHBOARD_MAX_CONNECTIONS_PER_IP": "0"})
    edge = system.edges[0]
    log_path = edge.process.log_path
    size_before = log_path.stat().st_size

    async def attack(packet: str) -> bool:
        raw = await RawSocket.open(edge.ws_url)
        await raw.join()
        await raw.ws.send(packet)
        return await raw.closed()

    packets = ["42[}", "4x", '42{"a":1}', "42[1]", "45-[]", "46", '41/other,', "42" + "[" * 5000]
    assert all(await asyncio.gather(*(attack(packets[i % len(packets)]) for i in range(200))))
    written = log_path.read_bytes()[size_before:].decode(errors="replace")
    assert "Traceback" not in written
    # Apart from uvicorn's two access lines per connection (INFO, not caused by the packet):
    caused = [line for line in written.splitlines() if '"uvicorn.error"' not in line]
    assert 1 <= sum("malformed packet" in line for line in caused) <= 20
    assert sum(len(line) for line in caused) < 20 * 400
