"""The registry records the client's address: the socket's peer, or X-Forwarded-For from a trusted proxy only."""

from __future__ import annotations

import pytest

from services.connection.proxies import TrustedProxies
from tests.support.system import System
from tests.support.users import SocketUser

FORWARDED = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1", "User-Agent": "switchboard-tests/1.0"}


async def _registered_address(system: System, user_id: int,
                              headers: dict[str, str] = FORWARDED) -> tuple[str, str]:
    user = SocketUser(system.edges[0].url, user_id, system.token(user_id))
    await user.connect(headers=headers)
    assert (await user.register())["success"]
    rows = await system.query(
        "SELECT ip_address, user_agent FROM user_connections WHERE connection_id = %s", user.connection_id)
    await user.close()
    return rows[0]


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(system: System) -> None:
    assert await _registered_address(system, 1401) == ("127.0.0.1", "switchboard-tests/1.0")


async def test_forwarded_for_is_read_from_the_right_past_trusted_proxies(make_system) -> None:
    """nginx appends its peer to what the client sent: the left-most entry is the client's own claim (forged
    here), the right-most untrusted hop is the client."""
    system = await make_system(edges=1, env={"SWITCHBOARD_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    forged = {**FORWARDED, "X-Forwarded-For": "198.51.100.66, 203.0.113.7, 10.1.2.3"}
    assert await _registered_address(system, 1402, forged) == ("203.0.113.7", "switchboard-tests/1.0")


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("127.0.0.1", "198.51.100.66, 203.0.113.7", "203.0.113.7"),    # the client's own entry is not believed
    ("127.0.0.1", "203.0.113.7, 10.0.0.2, 10.0.0.1", "203.0.113.7"),  # a chain of trusted proxies
    ("127.0.0.1", "10.0.0.2, 10.0.0.1", "10.0.0.2"),                # all trusted: the farthest
    ("127.0.0.1", "203.0.113.7, not-an-ip", "127.0.0.1"),           # garbage ends the walk
    ("192.0.2.1", "203.0.113.7", "192.0.2.1"),                      # an untrusted peer's header is ignored
    ("::1", "2001:db8::7", "2001:db8::7"),
])
def test_trusted_proxies(peer: str, forwarded: str, client: str) -> None:
    assert TrustedProxies("127.0.0.1,::1, 10.0.0.0/8").client(peer, forwarded) == client
