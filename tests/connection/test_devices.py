"""Several devices per user, the device list, and kicking a device wherever its sockets are."""

from __future__ import annotations

from protos import devices_pb2
from tests.conftest import Connect
from tests.support.polling import eventually
from tests.support.system import System
from tests.support.users import SocketUser, open_conversation


async def test_every_device_receives_messages_and_status_updates(connect: Connect) -> None:
    agent = await connect("agent", node=1)
    phone = await connect("user", node=0, device_id="phone")
    desktop = await connect("user", node=1, user_id=phone.user_id, device_id="desktop")
    session_id = await open_conversation(phone, agent)

    ack = await agent.call("send_message", {"session_id": session_id, "message": "to both"})
    for device in (phone, desktop):
        assert (await device.wait_for("new_message"))["id"] == ack["message_id"]

    # A receipt from one device updates the sender and the receipt-giver's other devices see it too.
    await phone.call("message_read", {"message_id": ack["message_id"]})
    assert (await agent.wait_for("message_status"))["status"] == "read"


async def test_list_devices_shows_the_callers_devices_with_online_state(connect: Connect) -> None:
    phone = await connect("user", node=0, device_id="phone")
    await connect("user", node=1, user_id=phone.user_id, device_id="desktop")
    reply = await phone.call("list_devices", {})
    assert reply["success"]
    by_id = {d["device_id"]: d for d in reply["devices"]}
    assert set(by_id) == {"phone", "desktop"}
    assert all(d["online"] for d in by_id.values())
    assert by_id["phone"]["current"] and not by_id["desktop"]["current"]


async def test_kicking_my_phone_from_my_desktop_disconnects_only_the_phone(connect: Connect) -> None:
    phone = await connect("user", node=0, device_id="phone")
    desktop = await connect("user", node=1, user_id=phone.user_id, device_id="desktop")

    reply = await desktop.call("kick_device", {"device_id": "phone", "reason": "lost it"})
    assert reply["success"]
    kicked = await phone.wait_for("kicked")
    assert kicked == {"device_id": "phone", "reason": "lost it"}
    await eventually(lambda: not phone.sio.connected)
    assert desktop.sio.connected
    devices = {d["device_id"]: d for d in (await desktop.call("list_devices", {}))["devices"]}
    assert devices["phone"]["is_active"] is False and devices["phone"]["online"] is False


async def test_another_users_device_cannot_be_kicked_or_probed(connect: Connect) -> None:
    victim = await connect("user", device_id="their-phone")
    attacker = await connect("user", device_id="my-phone")
    reply = await attacker.call("kick_device", {"device_id": "their-phone"})
    missing = await attacker.call("kick_device", {"device_id": "nobody-has-this"})
    assert reply["error"] == missing["error"] and reply["error"]["code"] == "NOT_FOUND"
    assert victim.sio.connected


async def test_a_grpc_kick_reaches_the_node_holding_the_device(system: System, connect: Connect) -> None:
    tablet = await connect("user", node=1, device_id="tablet")
    stub = system.devices_stub()
    reply = await stub.KickDevice(devices_pb2.KickDeviceRequest(
        user_id=tablet.user_id, device_id="tablet", reason="admin"))
    assert reply.connections_closed == 1
    assert (await tablet.wait_for("kicked"))["reason"] == "admin"
    await eventually(lambda: not tablet.sio.connected)


async def test_a_kicked_device_may_register_again_with_a_valid_token(system: System, connect: Connect) -> None:
    phone = await connect("user", device_id="phone")
    await system.devices_stub().KickDevice(devices_pb2.KickDeviceRequest(
        user_id=phone.user_id, device_id="phone", reason="x"))
    await eventually(lambda: not phone.sio.connected)
    again = await connect("user", user_id=phone.user_id, device_id="phone")
    assert again.sio.connected


async def test_reregistering_the_same_connection_after_a_drop_keeps_one_row(system: System) -> None:
    user = SocketUser(system.edges[0].url, 777, system.token(777))
    await user.join()
    await user.close()
    again = SocketUser(system.edges[1].url, 777, system.token(777), device_id=user.device_id)
    again.connection_id = user.connection_id
    await again.join()
    rows = await system.query(
        "SELECT status, node_id FROM user_connections WHERE connection_id = %s", user.connection_id)
    assert rows == [("connected", system.edges[1].node_id)]
    await again.close()
