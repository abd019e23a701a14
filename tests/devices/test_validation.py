"""Every RPC refuses malformed requests with INVALID_ARGUMENT and a message naming the field."""

from __future__ import annotations

import pytest

from protos import devices_pb2 as pb
from switchboard.errors import InvalidArgument

pytestmark = pytest.mark.asyncio(loop_scope="session")

LONG_ID = "x" * 256

CASES = [
    ("RegisterDevice", pb.RegisterDeviceRequest(role="user", user_id=0, device_id="d"), "user_id"),
    ("RegisterDevice", pb.RegisterDeviceRequest(role="user", user_id=1, device_id=""), "device_id"),
    ("RegisterDevice", pb.RegisterDeviceRequest(role="user", user_id=1, device_id=LONG_ID), "device_id"),
    ("RegisterDevice", pb.RegisterDeviceRequest(role="user", user_id=1, device_id="d",
                                                info=pb.DeviceInfo(device_type="tv")), "device_type"),
    ("RegisterDevice", pb.RegisterDeviceRequest(role="user", user_id=1, device_id="d",
                                                info=pb.DeviceInfo(app_version="1" * 51)), "app_version"),
    ("RegisterDevice", pb.RegisterDeviceRequest(user_id=1, device_id="d"), "role"),
    ("RegisterDevice", pb.RegisterDeviceRequest(role="root", user_id=1, device_id="d"), "role"),
    ("ListDevices", pb.ListDevicesRequest(user_id=-1), "user_id"),
    ("KickDevice", pb.KickDeviceRequest(user_id=1, device_id=""), "device_id"),
    ("UpdatePushToken", pb.UpdatePushTokenRequest(user_id=1, device_id="d", push_token="x" * 4097), "push_token"),
    ("RegisterConnection", pb.RegisterConnectionRequest(user_id=1, connection_id="", socket_id="s", device_id="d",
                                                        node_id="n"), "connection_id"),
    ("RegisterConnection", pb.RegisterConnectionRequest(user_id=1, connection_id="c", socket_id="s", device_id="d",
                                                        node_id=""), "node_id"),
    ("TouchConnections", pb.TouchConnectionsRequest(node_id="", connection_ids=["c"]), "node_id"),
    ("TouchConnections", pb.TouchConnectionsRequest(node_id="n", connection_ids=["c", ""]), "connection_ids"),
    ("UnregisterConnection", pb.UnregisterConnectionRequest(connection_id=""), "connection_id"),
    ("ResetNode", pb.ResetNodeRequest(node_id=""), "node_id"),
    ("GetPresence", pb.GetPresenceRequest(user_ids=[1, 0]), "user_ids"),
    ("GetPresence", pb.GetPresenceRequest(user_ids=range(1, 1002)), "user_ids"),
]


@pytest.mark.parametrize(("method", "request_", "field"), CASES,
                         ids=[f"{method}-{n}" for n, (method, _, _) in enumerate(CASES)])
async def test_malformed_requests_are_invalid_arguments(stub, method, request_, field):
    with pytest.raises(InvalidArgument) as exc:
        await getattr(stub, method)(request_)
    assert exc.value.code == "INVALID_ARGUMENT"
    assert field in exc.value.message
