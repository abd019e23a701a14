"""A devices service of its own (the other services are not needed), with small caps so the cap tests stay
short, and a fast stale sweep whose timeout no fresh row can reach during a test run."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from protos import devices_pb2, devices_pb2_grpc
from switchboard.runner import NatsServer
from tests.support.system import System

MAX_DEVICES = 3
MAX_SOCKETS = 2
HEARTBEAT_TIMEOUT_SECONDS = 3600

RegisterConnection = Callable[..., Awaitable[tuple[str, devices_pb2.RegisterConnectionResponse]]]


@pytest.fixture(scope="package")
async def devices_system(mysql_url: str, nats_server: NatsServer, run_dir: Path) -> AsyncIterator[System]:
    log_dir = run_dir / "devices-tests"
    log_dir.mkdir(exist_ok=True)
    sys_ = System(mysql_url, nats_server, log_dir, extra_env={
        "SWITCHBOARD_MAX_DEVICES_PER_USER": str(MAX_DEVICES),
        "SWITCHBOARD_MAX_SOCKETS_PER_DEVICE": str(MAX_SOCKETS),
        "SWITCHBOARD_HEARTBEAT_TIMEOUT_SECONDS": str(HEARTBEAT_TIMEOUT_SECONDS),
        "SWITCHBOARD_CLEANUP_INTERVAL_SECONDS": "0.2",
    })
    await sys_.start_service("devices")
    yield sys_
    await sys_.stop()


@pytest.fixture(scope="package")
def stub(devices_system: System) -> devices_pb2_grpc.DeviceServiceStub:
    return devices_system.devices_stub()


@pytest.fixture
def new_user() -> Callable[[], int]:
    """Fresh user ids: the database is shared with the rest of the test session."""
    return lambda: random.randrange(10**12, 10**13)


@pytest.fixture
def node_id() -> str:
    return f"edge-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def register_connection(stub: devices_pb2_grpc.DeviceServiceStub, node_id: str) -> RegisterConnection:
    """Register a socket as an edge would; returns its connection id and the reply."""

    async def register(user_id: int, device_id: str, connection_id: str | None = None,
                       node: str | None = None) -> tuple[str, devices_pb2.RegisterConnectionResponse]:
        connection_id = connection_id or str(uuid.uuid4())
        reply = await stub.RegisterConnection(devices_pb2.RegisterConnectionRequest(
            user_id=user_id, connection_id=connection_id, socket_id=f"sid-{uuid.uuid4().hex[:8]}",
            device_id=device_id, node_id=node or node_id, ip_address="10.0.0.1", user_agent="pytest",
        ))
        return connection_id, reply

    return register


def customer_device(**fields: object) -> devices_pb2.RegisterDeviceRequest:
    """A RegisterDevice request for a customer (role ``user``)."""
    return devices_pb2.RegisterDeviceRequest(role="user", **fields)
