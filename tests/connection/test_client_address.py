"""The registry records the client's address: the socket's peer, or X-Forwarded-For from a trusted proxy only."""

from __future__ import annotations

from tests.support.system import System
from tests.support.users import SocketUser

FORWARDED = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1", "User-Agent": "switchboard-tests/1.0"}


async def _registered_address(system: System, user_id: int) -> tuple[str, str]:
    user = SocketUser(system.edges[0].url, user_id, system.token(user_id))
    await user.connect(headers=FORWARDED)
    assert (await user.register())["success"]
    rows = await system.query(
        "SELECT ip_address, user_agent FROM user_connections WHERE connection_id = %s", user.connection_id)
    await user.close()
    return rows[0]


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(system: System) -> None:
    assert await _registered_address(system, 1401) == ("127.0.0.1", "switchboard-tests/1.0")


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(make_system) -> None:
    system = await make_system(edges=1, env={"SWITCHBOARD_TRUSTED_PROXIES": "127.0.0.1"})
    assert await _registered_address(system, 1402) == ("203.0.113.7", "switchboard-tests/1.0")
