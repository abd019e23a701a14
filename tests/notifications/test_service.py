"""The notifications service as deployed: its own process (``switchboard serve notifications``) next to devices,
messaging and an edge, the real APNs, FCM and Web Push providers talking to loopback peers of those protocols
(tests/support/push_peers), registrations made over socket.io. The SIGKILL test kills that process mid-burst.
The stack is module-scoped for the reason test_pipeline.py's is (conftest.py): one database per session."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from protos import devices_pb2
from switchboard.certs import TlsFiles
from switchboard.runner import NatsServer
from tests.support.polling import eventually
from tests.support.push_peers.apns import ApnsPeer, make_key
from tests.support.push_peers.fcm import FcmPeer, ServiceAccount
from tests.support.push_peers.server import Peer, Reply, Request
from tests.support.push_peers.webpush import WebPushPeer, make_vapid_key
from tests.support.system import System
from tests.support.users import SocketUser, new_user_id, open_conversation

pytestmark = pytest.mark.asyncio(loop_scope="session")



class Stack:
    def __init__(self, system: System, apns: ApnsPeer, fcm: FcmPeer, webpush: WebPushPeer) -> None:
        self.system, self.apns, self.fcm, self.webpush = system, apns, fcm, webpush

    async def user(self, role: str, device_id: str = "laptop") -> SocketUser:
        uid = new_user_id()
        return await SocketUser(self.system.edges[0].url, uid, self.system.token(uid, role),
                                device_id=device_id).join()

    async def asleep(self, user: SocketUser, device_id: str, push_token: Any) -> None:
        device = await SocketUser(user.url, user.user_id, user.token, device_id=device_id).join()
        reply = await device.call("update_push_token", {"push_token": push_token})
        assert reply["success"], reply
        await device.close()

    async def settled(self) -> None:
        async def depth() -> int:
            [(count,)] = await self.system.query(
                "SELECT COUNT(*) FROM push_notifications WHERE state IN ('pending', 'sending')")
            return int(count)
        await eventually(depth, 0, timeout=30)


def sends(peer: Peer, token: str = "") -> list[Request]:
    """What reached the peer (passing its credential and header checks) for one device."""
    found = peer.sends() if isinstance(peer, FcmPeer) else peer.received
    return [r for r in found if token in r.path or (isinstance(peer, FcmPeer) and r.decoded["token"] == token)]


def app_data(peer: Peer, request: Request) -> dict[str, str]:
    decoded = request.decoded
    return {k: v for k, v in (decoded if isinstance(peer, ApnsPeer) else decoded["data"]).items() if k != "aps"}


@pytest.fixture(scope="module")
async def stack(mysql_url: str, nats_server: NatsServer, run_dir: Path, push_tls: TlsFiles,
                fcm_service_account: ServiceAccount,
                tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    keys = tmp_path_factory.mktemp("push-keys")
    apns, fcm = ApnsPeer(push_tls, make_key(keys)), FcmPeer(push_tls, fcm_service_account)
    webpush = WebPushPeer(push_tls, make_vapid_key(keys))
    for peer in (apns, fcm, webpush):
        await peer.start()
    log_dir = run_dir / "notifications-service"
    log_dir.mkdir(exist_ok=True)
    system = System(mysql_url, nats_server, log_dir, extra_env={
        **apns.env(), **fcm.env(), **webpush.env(),
        "SWITCHBOARD_PUSH_GRACE_SECONDS": "2", "SWITCHBOARD_PUSH_COLLAPSE_SECONDS": "4",
        "SWITCHBOARD_PUSH_RETRY_BASE_SECONDS": "0.2", "SWITCHBOARD_PUSH_POLL_SECONDS": "0.05",
        "SWITCHBOARD_PUSH_LEASE_SECONDS": "3",
    })
    await system.start(edges=1)
    await system.start_service("notifications")
    yield Stack(system, apns, fcm, webpush)
    await system.stop()
    for peer in (apns, fcm, webpush):
        await peer.stop()


async def conversation(stack: Stack) -> tuple[SocketUser, SocketUser, str]:
    customer, agent = await stack.user("user"), await stack.user("agent")
    session_id = await open_conversation(customer, agent)
    await customer.close()
    return customer, agent, session_id


async def send(agent: SocketUser, session_id: str, text: str) -> int:
    ack = await agent.call("send_message", {"session_id": session_id, "message": text})
    assert ack["success"], ack
    return int(ack["message_id"])


async def test_each_sleeping_device_gets_one_push_through_its_provider(stack: Stack) -> None:
    customer, agent, session_id = await conversation(stack)
    apns_token, fcm_token, subscription = "ab" * 32, f"fcm:{customer.user_id}", stack.webpush.subscribe()
    await stack.asleep(customer, "iphone", apns_token)  # a plain 64-hex token: APNs
    await stack.asleep(customer, "android", {"provider": "fcm", "token": fcm_token})
    await stack.asleep(customer, "browser", json.loads(subscription.token))  # the subscription object
    message_id = await send(agent, session_id, "Your parcel is on its way")

    wanted = {"session_id": session_id, "message_id": str(message_id), "badge": "1"}
    for peer, token in ((stack.apns, apns_token), (stack.fcm, fcm_token),
                        (stack.webpush, subscription.endpoint.rsplit("/", 1)[1])):
        [request] = await eventually(lambda peer=peer, token=token: sends(peer, token))
        assert app_data(peer, request) == wanted, type(peer).__name__
    [apns_request] = sends(stack.apns, apns_token)
    assert apns_request.headers["apns-collapse-id"] == session_id
    assert apns_request.decoded["aps"]["alert"] == {"title": "Agent", "body": "Your parcel is on its way"}
    await stack.settled()
    assert [len(sends(p, t)) for p, t in ((stack.apns, apns_token), (stack.fcm, fcm_token))] == [1, 1]
    metrics = metrics_text(stack)
    for provider in ("apns", "fcm", "webpush"):
        assert f'switchboard_notifications_pushes_total{{outcome="accepted",provider="{provider}"}}' in metrics
        assert f'switchboard_notifications_push_latency_seconds_count{{provider="{provider}"}}' in metrics
    await eventually(lambda: "switchboard_notifications_pending 0.0" in metrics_text(stack))  # gauge: each second


def metrics_text(stack: Stack) -> str:
    port = stack.system.services["notifications"].http_port
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        return str(reply.read().decode())


@pytest.mark.parametrize("push_token", [
    {"provider": "gcm", "token": "t"}, {"endpoint": "https://push.example.net/x", "keys": {"auth": "a"}},
    "two words", "x" * 4097, {"provider": "webpush", "token": "not a subscription"}, 42,
    {"provider": ["fcm"], "token": "t"}, {"provider": "fcm", "token": {"nested": 1}},
])
async def test_a_malformed_registration_is_refused(stack: Stack, push_token: Any) -> None:
    user = await stack.user("user")
    reply = await user.call("update_push_token", {"push_token": push_token})
    assert reply["success"] is False and reply["error"]["code"] == "INVALID_ARGUMENT", reply
    await user.close()


async def test_an_unregistered_token_is_cleared_from_the_device(stack: Stack) -> None:
    customer, agent, session_id = await conversation(stack)
    token = f"fcm-gone:{customer.user_id}"
    stack.fcm.unregistered.add(token)
    await stack.asleep(customer, "android", {"provider": "fcm", "token": token})
    await send(agent, session_id, "hello?")
    await eventually(lambda: sends(stack.fcm, token))

    async def stored_token() -> str:
        listed = await stack.system.devices_stub().ListDevices(devices_pb2.ListDevicesRequest(
            user_id=customer.user_id))
        return next(d.push_token for d in listed.devices if d.device_id == "android")

    await eventually(stored_token, "")
    await send(agent, session_id, "anyone?")
    await stack.settled()
    assert len(sends(stack.fcm, token)) == 1


async def test_a_provider_failing_then_back_delivers_the_push_once(stack: Stack) -> None:
    customer, agent, session_id = await conversation(stack)
    token = f"fcm-flaky:{customer.user_id}"
    await stack.asleep(customer, "android", {"provider": "fcm", "token": token})
    stack.fcm.answer_next(Reply(503, headers={"retry-after": "1"}), Reply(429, {"error": {"status": "QUOTA"}}))
    message_id = await send(agent, session_id, "after the outage")

    await eventually(lambda: len(sends(stack.fcm, token)) == 3)
    await stack.settled()
    attempts = sends(stack.fcm, token)
    assert len(attempts) == 3
    assert {app_data(stack.fcm, r)["message_id"] for r in attempts} == {str(message_id)}
    [(state,)] = await stack.system.query("SELECT state FROM push_notifications WHERE session_id = %s", session_id)
    assert state == "sent"


async def test_a_service_killed_mid_burst_loses_nothing_and_doubles_nothing(stack: Stack) -> None:
    customer, agent, session_id = await conversation(stack)
    token = f"fcm-burst:{customer.user_id}"
    await stack.asleep(customer, "android", {"provider": "fcm", "token": token})
    service = stack.system.services["notifications"]
    ids = [await send(agent, session_id, f"burst {i}") for i in range(3)]
    await service.kill()  # SIGKILL, inside the grace period: pending rows, maybe unacknowledged messages
    ids += [await send(agent, session_id, f"burst {i}") for i in range(3, 6)]
    await stack.system.start_service("notifications")

    [push] = await eventually(lambda: sends(stack.fcm, token))
    await stack.settled()
    assert len(sends(stack.fcm, token)) == 1
    assert app_data(stack.fcm, push) == {"session_id": session_id, "message_id": str(ids[-1]), "badge": "6"}


async def test_a_service_killed_while_a_push_is_at_the_provider_repeats_it_under_the_same_collapse_key(
        stack: Stack) -> None:
    """The one case a repeat is possible: the provider had the push when the process died. The lease brings the
    row back and the push goes again; the device replaces its notification (same collapse key), and the row ends
    ``sent`` with the latest message."""
    customer, agent, session_id = await conversation(stack)
    token = f"fcm-held:{customer.user_id}"
    await stack.asleep(customer, "android", {"provider": "fcm", "token": token})
    stack.fcm.gate.clear()  # the peer holds requests unanswered
    try:
        message_id = await send(agent, session_id, "held at the provider")
        await eventually(lambda: stack.fcm.in_flight == 1)
        await stack.system.services["notifications"].kill()
    finally:
        stack.fcm.gate.set()
    await stack.system.start_service("notifications")

    async def state() -> str:
        [(found,)] = await stack.system.query("SELECT state FROM push_notifications WHERE session_id = %s",
                                              session_id)
        return str(found)

    await eventually(state, "sent")  # only the new process, after the lease, can have finished the row
    pushes = sends(stack.fcm, token)  # the repeat, and the held one if the peer answered it after the kill
    assert 1 <= len(pushes) <= 2
    assert {(r.decoded["android"]["collapse_key"], app_data(stack.fcm, r)["message_id"]) for r in pushes} == {
        (session_id, str(message_id))}
