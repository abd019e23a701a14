"""NATS admits only the services' users, and each role only to its own subjects: nobody on the network can
push a forged message or kick to a user, and a compromised edge cannot either."""

from __future__ import annotations

import os
import ssl
import subprocess
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from switchboard import certs
from switchboard import nats as sb_nats
from switchboard.nats import Subjects, encode
from switchboard.nats_auth import ADMIN, COMPOSE_ROLES, SERVICE_ROLES, NatsAuth, compose_config, password_variable
from switchboard.runner import NatsServer, nats_server_binary
from switchboard.settings import CommonSettings, load
from tests.support.polling import eventually
from tests.support.system import System

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """A client's errors (the server's permission violations arrive there) and what it received."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.received: list[str] = []

    async def error(self, exc: Exception) -> None:
        self.errors.append(str(exc))

    async def message(self, msg: Msg) -> None:
        self.received.append(msg.subject)

    async def connect(self, url: str) -> Client:
        return await nats.connect(url, error_cb=self.error, allow_reconnect=False, connect_timeout=5)


@pytest.mark.parametrize("login", ["", "edge:wrong-password@", "nobody:x@"])
async def test_connecting_without_valid_credentials_is_refused(nats_server: NatsServer, login: str) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await Recorder().connect(nats_server.url.replace("nats://", f"nats://{login}"))


# Per role: subjects outside its permissions (publish, subscribe), and one it may publish on.
REFUSED = {
    "edge": (["acme.user.1.msg", "acme.user.1.evt", "acme.presence.1", "acme.staff",
              "$JS.API.STREAM.DELETE.ACME_INBOX"],
             ["acme.presence.*", "_INBOX.>", "other.staff"]),
    "messaging": (["acme.user.1.typing", "acme.presence.1", "other.user.1.evt", "$JS.API.STREAM.DELETE.ACME_INBOX",
                   "$JS.API.STREAM.CREATE.OTHER_INBOX", "other.staff"],
                  ["acme.user.1.>", "other.presence.*", "acme.staff"]),
    "devices": (["acme.user.1.msg", "acme.user.1.typing", "other.presence.1", "acme.staff",
                 "$JS.API.STREAM.CREATE.ACME_INBOX"],
                ["acme.presence.*", "acme.user.1.>", "acme.staff"]),
    "notifications": (["acme.user.1.msg", "acme.user.1.evt", "$JS.API.STREAM.DELETE.ACME_INBOX",
                       "$JS.API.CONSUMER.DELETE.ACME_INBOX.notifications", "$JS.API.CONSUMER.CREATE.ACME_INBOX.other",
                       "$JS.API.CONSUMER.MSG.NEXT.OTHER_INBOX.notifications", "acme.staff"],
                      ["acme.user.1.>", "acme.presence.*", "acme.staff"]),
}
ALLOWED = {"edge": "acme.user.1.typing", "messaging": "acme.user.1.evt", "devices": "acme.presence.1",
           "notifications": "$JS.ACK.ACME_INBOX.notifications.1.1.1.1.1.0.0"}


@pytest.mark.parametrize("role", SERVICE_ROLES)
async def test_each_role_publishes_and_subscribes_only_where_its_service_does(role: str, tmp_path: Path) -> None:
    """A server generated for one prefix (as ``switchboard up`` runs it): beyond a role's subjects, publishes
    are dropped by the server and subscriptions refused, both reported to the client."""
    server = NatsServer(tmp_path / "js", auth=NatsAuth.generate("acme", (*SERVICE_ROLES, ADMIN)))
    await server.start()
    watcher, client = Recorder(), Recorder()
    try:
        admin = await watcher.connect(server.admin_url)
        await admin.subscribe(">", cb=watcher.message)
        await admin.flush()
        nc = await client.connect(server.auth.url(server.url, role))
        publish, subscribe = REFUSED[role]
        for subject in subscribe:
            await nc.subscribe(subject, cb=client.message)
        for subject in publish:
            await nc.publish(subject, b"forged")
        await nc.publish(ALLOWED[role], b"allowed")  # after the refused ones, on the same connection
        await eventually(lambda: ALLOWED[role] in watcher.received)
        assert not set(publish) & set(watcher.received)
        expected = {f'nats: permissions violation for publish to "{s}"'.lower() for s in publish} | {
            f'nats: permissions violation for subscription to "{s}"'.lower() for s in subscribe}
        await eventually(lambda: set(client.errors) >= expected)  # nats-py lowercases the server's -ERR
        await nc.close()
        await admin.close()
    finally:
        await server.stop()


async def test_staff_broadcasts_go_from_messaging_to_the_edges(tmp_path: Path) -> None:
    """The one subject every agent's console hears: messaging publishes on it and edges hear it; an edge, the
    process customers talk to, cannot publish on it (its refusal is in REFUSED)."""
    server = NatsServer(tmp_path / "js", auth=NatsAuth.generate("acme", SERVICE_ROLES))
    await server.start()
    edge, messaging = Recorder(), Recorder()
    try:
        listening = await edge.connect(server.auth.url(server.url, "edge"))
        await listening.subscribe(Subjects("acme").staff, cb=edge.message)
        await listening.flush()
        publisher = await messaging.connect(server.auth.url(server.url, "messaging"))
        await publisher.publish(Subjects("acme").staff, encode("queue_updated", {"session_id": "s"}))
        await eventually(lambda: edge.received == ["acme.staff"])
        assert edge.errors == messaging.errors == []
        await publisher.close()
        await listening.close()
    finally:
        await server.stop()


async def test_an_edges_credentials_cannot_forge_a_message_or_a_kick(system: System, connect) -> None:
    victim = await connect()
    subjects, recorder = Subjects(system.prefix), Recorder()
    edge = await recorder.connect(system.nats.auth.url(system.nats.url, "edge"))
    forged = encode("new_message", {"id": 1, "session_id": "s", "from": "agent", "text": "click http://evil"})
    kick = encode("kicked", {"device_id": victim.device_id, "reason": "forged"}, device_id=victim.device_id)
    await edge.publish(subjects.user_inbox(victim.user_id), forged)
    await edge.publish(subjects.user(victim.user_id), kick)
    await edge.publish(subjects.user_typing(victim.user_id), kick)  # an edge's subject, but not a typing event
    await edge.publish(subjects.user_typing(victim.user_id),
                       encode("typing", {"session_id": "s", "user_id": 1, "is_typing": True}))
    await victim.wait_for("typing")  # published last on the same connection: whatever came before is handled
    assert victim.events["new_message"] == [] and victim.events["kicked"] == []
    assert victim.sio.connected
    await eventually(lambda: len(recorder.errors) == 2)
    assert all("permissions violation for publish" in e for e in recorder.errors), recorder.errors
    await edge.close()
    admin = await nats.connect(system.nats.admin_url)
    with pytest.raises(NotFoundError):  # not stored for later delivery either
        await admin.jetstream().get_last_msg(subjects.inbox_stream, subjects.user_inbox(victim.user_id))
    await admin.close()


async def test_with_tls_configured_services_verify_the_server_with_their_ca(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    certs.ensure(pki)
    server = NatsServer(tmp_path / "js", tls=certs.issue(pki, "nats", ("127.0.0.1",)))
    await server.start()
    try:
        settings = load(CommonSettings, {}, nats_url=server.url, nats_tls_ca=str(pki / "ca.pem"),
                        **{f"nats_{k}": v for k, v in
                           (("user", "edge"), ("password", server.auth.passwords["edge"]))})
        nc = await sb_nats.connect(settings, "tls-test")
        assert nc.is_connected
        await nc.close()
        # nats-py upgrades to TLS when the server requires it; without the CA it cannot trust this server
        with pytest.raises(ssl.SSLCertVerificationError):
            await nats.connect(server.auth.url(server.url, "edge"), allow_reconnect=False, connect_timeout=3)
    finally:
        await server.stop()


def test_the_compose_nats_config_is_generated_and_valid() -> None:
    """``deploy/nats.conf`` is what ``python -m switchboard.nats_auth`` prints, and nats-server accepts it
    with the passwords in its environment (as compose passes them)."""
    path = ROOT / "deploy" / "nats.conf"
    assert path.read_text() == compose_config(), "regenerate: python -m switchboard.nats_auth > deploy/nats.conf"
    env = {**os.environ, **{password_variable(role): "x" for role in COMPOSE_ROLES}}
    check = subprocess.run([nats_server_binary(), "-t", "-c", str(path)], env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


async def test_an_edges_credentials_cannot_feed_the_agents_queue(system: System, connect) -> None:
    """The edge is the process customers talk to: were it compromised, it still could not put a forged session
    into every agent's waiting queue."""
    agent, recorder = await connect("agent"), Recorder()
    edge = await recorder.connect(system.nats.auth.url(system.nats.url, "edge"))
    await edge.publish(Subjects(system.prefix).staff, encode("queue_updated", {
        "session_id": "forged", "user_id": 1, "status": "open", "last_sequence": 0, "reason": "waiting"}))
    await eventually(lambda: recorder.errors)  # the server refused it, so it routed it nowhere
    assert "permissions violation for publish" in recorder.errors[0], recorder.errors
    await edge.close()
    customer = await connect("user")
    real = (await customer.call("open_session", {}))["session_id"]
    await eventually(lambda: [e for e in agent.events["queue_updated"] if e["session_id"] == real])
    assert not [e for e in agent.events["queue_updated"] if e["session_id"] == "forged"]
