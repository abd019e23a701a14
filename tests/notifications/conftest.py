"""The notifications pipeline (intake + sender) in the test process, against a deployment of its own (devices,
messaging, one edge, the tests' NATS and MySQL), reading the inbox stream as the ``notifications`` NATS user
and calling devices with the ``notifications`` certificate. Only the provider is a test double of the provider
interface: it records each push and answers what the test scripts. The devices stub is the real one, counted."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import pytest

from protos.devices_pb2_grpc import DeviceServiceStub
from services.notifications.devices import DeviceDirectory
from services.notifications.intake import Intake
from services.notifications.messages import MessageReader
from services.notifications.providers.base import Outcome, Push, Result
from services.notifications.sender import Sender
from services.notifications.settings import Settings
from services.notifications.store import PushStore
from switchboard import db
from switchboard import nats as sb_nats
from switchboard.grpc import Transport, channel, stub
from switchboard.runner import NatsServer
from switchboard.settings import load
from tests.support.polling import eventually
from tests.support.push_peers.fixtures import fcm_service_account, push_tls  # noqa: F401 - fixtures
from tests.support.system import System
from tests.support.users import SocketUser, new_user_id

GRACE_SECONDS = 2.0  # long enough for a test's burst to fit in it, short enough to wait for
COLLAPSE_SECONDS = 4.0


class RecordingProvider:
    """The provider interface, recording what it is asked to send; ``script`` holds the next answers (then
    ACCEPTED)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.pushes: list[Push] = []
        self.script: list[Result] = []

    async def send(self, push: Push) -> Result:
        self.pushes.append(push)
        return self.script.pop(0) if self.script else Result(Outcome.ACCEPTED)

    async def close(self) -> None:
        return None

    def to(self, token: str) -> list[Push]:
        return [p for p in self.pushes if p.token == token]


class CountingStub:
    """The real devices stub, counting the calls made through it per method (what reaches the devices service)."""

    def __init__(self, stub: DeviceServiceStub) -> None:
        self._stub, self.calls = stub, Counter[str]()

    def __getattr__(self, method: str) -> Callable[..., Awaitable[Any]]:
        call = getattr(self._stub, method)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[method] += 1
            return await call(*args, **kwargs)
        return counted


@dataclasses.dataclass
class Pipeline:
    system: System
    provider: RecordingProvider
    devices: CountingStub
    settings: Settings
    store: PushStore
    intake: Intake
    sender: Sender

    async def user(self, role: str = "user", device_id: str = "laptop") -> SocketUser:
        uid = new_user_id()
        return await SocketUser(self.system.edges[0].url, uid, self.system.token(uid, role),
                                device_id=device_id).join()

    async def asleep(self, user: SocketUser, device_id: str = "phone") -> str:
        """Register ``device_id`` for ``user`` with a push token, then close its socket; returns the token."""
        token = f"fcm-token-{user.user_id}-{device_id}"
        phone = await SocketUser(user.url, user.user_id, user.token, device_id=device_id).join()
        reply = await phone.call("update_push_token", {"push_token": {"provider": "fcm", "token": token}})
        assert reply["success"], reply
        await phone.close()
        return token

    async def settled(self) -> None:
        """Nothing pending or in flight any more."""
        await eventually(self.store.depth, 0, timeout=30)


# Module scope: every deployment of a test session shares one database, so the pushes of test_service.py's
# notifications service would be claimed by this pipeline's sender if both ran at once (as two replicas would).
@pytest.fixture(scope="module")
async def pipeline(mysql_url: str, nats_server: NatsServer, run_dir: Path) -> AsyncIterator[Pipeline]:
    log_dir = run_dir / "notifications-tests"
    log_dir.mkdir(exist_ok=True)
    system = await System(mysql_url, nats_server, log_dir).start(edges=1)
    files = system.credentials("notifications")
    settings = load(Settings, {}, mysql_url=mysql_url, nats_url=nats_server.url, nats_prefix=system.prefix,
                    **_nats_login(nats_server), grpc_ca_file=str(files.ca_file), grpc_cert_file=str(files.cert_file),
                    grpc_key_file=str(files.key_file), push_grace_seconds=GRACE_SECONDS,
                    push_collapse_seconds=COLLAPSE_SECONDS, push_retry_base_seconds=0.2, push_poll_seconds=0.05)
    pool = await db.create_pool(mysql_url, 4)
    nc = await sb_nats.connect(settings, name="notifications-tests")
    devices_channel = channel(f"127.0.0.1:{system.devices_grpc_port}", Transport.from_settings(settings))
    devices = CountingStub(stub(DeviceServiceStub, devices_channel))
    directory = DeviceDirectory(cast(DeviceServiceStub, devices))
    provider, store = RecordingProvider("fcm"), PushStore(pool)
    intake = Intake(nc, sb_nats.Subjects(system.prefix), store, directory, frozenset({"fcm"}), settings)
    sender = Sender(store, directory, MessageReader(pool), {"fcm": provider}, settings)
    intake.start()
    sender.start()
    await eventually(lambda: intake.bound)
    yield Pipeline(system, provider, devices, settings, store, intake, sender)
    await intake.stop()
    await sender.stop()
    await devices_channel.close()
    await nc.close()
    pool.close()
    await pool.wait_closed()
    await system.stop()


def _nats_login(server: NatsServer) -> dict[str, str]:
    env = server.auth.env("notifications")
    return {"nats_user": env["SWITCHBOARD_NATS_USER"], "nats_password": env["SWITCHBOARD_NATS_PASSWORD"]}
