"""nginx in front of three edges, as the cluster layout runs it (switchboard/nginx.py): websocket and long-polling
both work through it, a polling client's requests all reach one edge, the edge sees the client's address (not
nginx's, not what the client wrote itself), and an edge that drains stops getting new connections.

Clients come from distinct loopback addresses (127.0.0.x, all this machine), as clients on a network do: nginx
hashes on the client address, and the edges trust only nginx's own (127.0.0.2)."""

from __future__ import annotations

import asyncio
import signal
from collections import defaultdict

import pytest

from switchboard.cluster import LoopbackCluster
from tests.connection.test_js_client import check_conversation, run_conversation
from tests.support.polling import eventually
from tests.support.users import SocketUser, new_user_id, open_conversation

POLLING = ("polling",)


def client_address(n: int) -> str:
    return f"127.0.0.{10 + n}"


async def joined(cluster: LoopbackCluster, address: str, role: str = "user",
                 transports: tuple[str, ...] = ("websocket",), url: str | None = None) -> SocketUser:
    uid = new_user_id()
    user = SocketUser(url or cluster.url, uid, cluster.deployment.token(uid, role), source_address=address)
    return await user.join(transports=transports)


async def close_all(users: list[SocketUser]) -> None:
    await asyncio.gather(*(user.close() for user in users))


async def edge_of(cluster: LoopbackCluster, user: SocketUser) -> str:
    """The node id the registry recorded for the user's connection: the edge nginx sent it to."""
    rows = await cluster.deployment.query(
        "SELECT node_id FROM user_connections WHERE connection_id = %s", user.connection_id)
    return str(rows[0][0])


async def refuses(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    writer.close()
    return False


def upstreams_by_client(cluster: LoopbackCluster) -> dict[str, set[str]]:
    """From nginx's access log: for each client address, the edges that answered its socket.io requests."""
    assert cluster.front is not None
    seen: dict[str, set[str]] = defaultdict(set)
    for line in cluster.front.access_log.read_text().splitlines():
        address, _, rest = line.partition(" ")
        if '"GET /socket.io/' in rest or '"POST /socket.io/' in rest:
            seen[address].add(rest.rsplit(" ", 1)[-1])
    return seen


async def test_polling_clients_stay_on_their_edge_and_spread_over_edges(cluster: LoopbackCluster) -> None:
    """Each polling client's handshake, polls and posts (one HTTP request each) reach one edge — another edge
    would not know its engine.io session and answer 400 — while clients as a whole spread over the edges."""
    addresses = [client_address(n) for n in range(12)]
    users = [await joined(cluster, address, transports=POLLING) for address in addresses]
    try:
        assert {user.sio.transport() for user in users} == {"polling"}
        for _ in range(3):  # more round trips, each a POST and a poll of its own
            for user in users:
                reply = await user.call("heartbeat", {"connection_id": user.connection_id})
                assert reply["success"], reply
        served = upstreams_by_client(cluster)
        assert all(len(served[address]) == 1 for address in addresses), {a: served[a] for a in addresses}
        assert len(set().union(*(served[address] for address in addresses))) >= 2
        assert len({await edge_of(cluster, user) for user in users}) >= 2
    finally:
        await close_all(users)


async def test_a_conversation_between_a_polling_and_a_websocket_client(cluster: LoopbackCluster) -> None:
    customer = await joined(cluster, client_address(20), transports=POLLING)
    agent = await joined(cluster, client_address(21), role="agent")
    try:
        assert (customer.sio.transport(), agent.sio.transport()) == ("polling", "websocket")
        session_id = await open_conversation(customer, agent)
        for sender, receiver, role in ((customer, agent, "user"), (agent, customer, "agent")):
            ack = await sender.call("send_message", {"session_id": session_id, "message": f"from {role}",
                                                     "role": role, "message_type": "text"})
            assert ack["success"], ack
            pushed = await receiver.wait_for("new_message")
            assert (pushed["id"], pushed["text"]) == (ack["message_id"], f"from {role}")
            receiver.events["new_message"].clear()
    finally:
        await close_all([customer, agent])


async def test_the_edge_sees_the_client_address_nginx_forwards(cluster: LoopbackCluster) -> None:
    """Through nginx the edge records the address nginx saw (the right-most X-Forwarded-For hop, appended by
    its one trusted proxy), never what the client wrote itself; straight to an edge, the header is ignored."""
    forged = {"X-Forwarded-For": "198.51.100.66"}
    through, direct = client_address(30), client_address(31)
    via_nginx = SocketUser(cluster.url, new_user_id(), "", source_address=through)
    bypassing = SocketUser(cluster.deployment.edges[0].url, new_user_id(), "", source_address=direct)
    try:
        for user in (via_nginx, bypassing):
            user.token = cluster.deployment.token(user.user_id)
            await user.connect(headers=forged)
            assert (await user.register())["success"]
        for user, address in ((via_nginx, through), (bypassing, direct)):
            rows = await cluster.deployment.query(
                "SELECT ip_address FROM user_connections WHERE connection_id = %s", user.connection_id)
            assert rows == [(address,)]
    finally:
        await close_all([via_nginx, bypassing])


async def test_a_draining_edge_gets_no_new_connections(cluster: LoopbackCluster) -> None:
    """SIGTERM drains an edge: it closes its listening socket at once, so nginx's connect is refused and the
    request goes to the next edge (open-source nginx has no active health checks; this is the passive kind).
    New clients from the very address nginx sent to that edge land elsewhere, while it drains and after it
    exited; its own clients are let go and come back through nginx to another edge. Started again, the edge
    gets that address's new clients again (until then, a polling session from there could be cut mid-way when
    nginx moves the address back: tests after this one start in the steady state)."""
    address = client_address(40)
    first = await joined(cluster, address, transports=POLLING)
    drained_id = await edge_of(cluster, first)
    drained = next(edge for edge in cluster.deployment.edges if edge.node_id == drained_id)
    newcomers: list[SocketUser] = []
    try:
        drained.process.signal(signal.SIGTERM)
        await eventually(lambda: refuses(drained.port))
        while drained.process.running:  # while it drains, then once more after it exited
            newcomers.append(await joined(cluster, address, transports=POLLING))
        newcomers.append(await joined(cluster, address))
        assert drained_id not in {await edge_of(cluster, user) for user in newcomers}
        await eventually(lambda: not first.sio.connected, timeout=15)
        back = await joined(cluster, address, transports=POLLING)
        newcomers.append(back)
        assert await edge_of(cluster, back) != drained_id
    finally:
        await close_all([first, *newcomers])
        await drained.process.wait_stopped(15)
        await cluster.deployment.restart_edge(drained)

    async def lands_on() -> str:
        user = await joined(cluster, address)
        try:
            return await edge_of(cluster, user)
        finally:
            await user.close()

    # Started again, it is back in rotation once nginx's fail_timeout is over: that address's clients are its own.
    await eventually(lands_on, drained_id, timeout=20, interval=0.5)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_the_standard_js_client_through_nginx(cluster: LoopbackCluster, transport: str) -> None:
    """The official socket.io-client (which offers permessage-deflate, as browsers do) holds a whole
    conversation through nginx: acks, pushes, receipts, errors (tests/connection/test_js_client.py's checks)."""
    check_conversation(await run_conversation(cluster.deployment, [transport], urls=(cluster.url, cluster.url)),
                       transport)
