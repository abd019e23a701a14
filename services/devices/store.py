"""The registry's SQL over ``user_devices`` and ``user_connections``. Plain Python values in and out; the
domain errors it raises (caps, ownership, unknown rows) are decided here because they are decided inside
the transaction that writes."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiomysql

from switchboard.db import retry_transient
from switchboard.errors import Forbidden, LimitExceeded, NotFound, Unavailable

# How long a writer waits for another writer of the same user (a lock is held for a few statements).
USER_LOCK_WAIT_SECONDS = 5
# Users whose named locks one transaction of a node reset or a stale sweep holds at once.
CLOSE_USERS_PER_TRANSACTION = 100

INFO_COLUMNS = ("device_name", "device_type", "platform", "browser", "os_version", "app_version")


@dataclasses.dataclass(frozen=True, slots=True)
class DeviceInfo:
    """Field order matches :data:`INFO_COLUMNS`."""

    device_name: str = ""
    device_type: str = "other"
    platform: str = ""
    browser: str = ""
    os_version: str = ""
    app_version: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Device:
    user_id: int
    device_id: str
    info: DeviceInfo
    push_token: str
    push_provider: str  # apns | fcm | webpush; "" without a token
    is_active: bool
    last_login: datetime
    connections: int  # connected sockets


@dataclasses.dataclass(frozen=True, slots=True)
class NewConnection:
    user_id: int
    connection_id: str
    socket_id: str
    device_id: str
    node_id: str
    ip_address: str
    user_agent: str


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectionRegistered:
    reconnected: bool
    user_came_online: bool


@dataclasses.dataclass(frozen=True, slots=True)
class WentOffline:
    """A user whose last connected socket was just closed; ``last_seen`` as :meth:`DeviceStore.get_presence`
    reports it (the latest heartbeat of any of the user's rows)."""

    user_id: int
    last_seen: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Closed:
    """Connection rows closed by one call, the users that left offline, and how many users were skipped
    because another writer held their registry too long (their rows stay connected: call again)."""

    count: int = 0
    went_offline: list[WentOffline] = dataclasses.field(default_factory=list)
    busy_users: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class Presence:
    user_id: int
    online: bool
    device_ids: list[str]
    last_seen: datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class RegistryStats:
    online_users: int
    connections: int
    active_devices: int
    nodes: list[tuple[str, int, int]]  # (node_id, connections, users), by node id


def _utc(unix_timestamp: Decimal) -> datetime:
    """Timestamps are read as ``UNIX_TIMESTAMP(col)`` so the session time zone never shifts them."""
    return datetime.fromtimestamp(float(unix_timestamp), UTC)


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


_DEVICE_SELECT = f"""
    SELECT d.user_id, d.device_id, {", ".join(f"d.{c}" for c in INFO_COLUMNS)}, d.push_token, d.push_provider,
           d.is_active, UNIX_TIMESTAMP(d.last_login),
           (SELECT COUNT(*) FROM user_connections c
             WHERE c.user_id = d.user_id AND c.device_id = d.device_id AND c.status = 'connected')
      FROM user_devices d
"""

# The values are bound twice (insert, then update) rather than through VALUES(), which MySQL 8 deprecates
# and MariaDB's replacement syntax lacks.
_DEVICE_UPSERT = f"""
    INSERT INTO user_devices (user_id, device_id, {", ".join(INFO_COLUMNS)}, is_active, last_login)
    VALUES (%s, %s, {_placeholders(INFO_COLUMNS)}, TRUE, NOW(3))
    ON DUPLICATE KEY UPDATE {", ".join(f"{c} = %s" for c in INFO_COLUMNS)}, is_active = TRUE, last_login = NOW(3)
"""

_CONNECTION_UPSERT = """
    INSERT INTO user_connections (user_id, connection_id, socket_id, device_id, node_id, status,
                                  last_heartbeat, connected_at, disconnected_at, ip_address, user_agent)
    VALUES (%s, %s, %s, %s, %s, 'connected', NOW(3), NOW(3), NULL, %s, %s)
    ON DUPLICATE KEY UPDATE socket_id = %s, device_id = %s, node_id = %s, status = 'connected',
        last_heartbeat = NOW(3), connected_at = NOW(3), disconnected_at = NULL, ip_address = %s, user_agent = %s
"""

_CLOSE = "UPDATE user_connections SET status = 'disconnected', disconnected_at = NOW(3)"


def _device(row: tuple[Any, ...]) -> Device:
    user_id, device_id, *info, push_token, push_provider, is_active, last_login, connections = row
    return Device(
        user_id=user_id,
        device_id=device_id,
        info=DeviceInfo(*(value or "" for value in info)),
        push_token=push_token or "",
        push_provider=push_provider or "",
        is_active=bool(is_active),
        last_login=_utc(last_login),
        connections=connections,
    )


class DeviceStore:
    def __init__(self, pool: aiomysql.Pool) -> None:
        self._pool = pool

    async def ping(self) -> bool:
        async with self._pool.acquire() as conn:
            await conn.ping(reconnect=False)
        return True

    async def _query(self, sql: str, args: Sequence[object] = ()) -> list[tuple]:
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(sql, args)
            return list(await cur.fetchall())

    async def _execute(self, sql: str, args: Sequence[object] = ()) -> int:
        """One autocommitted statement; returns the rows it changed."""
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(sql, args)
            return cur.rowcount

    @contextlib.asynccontextmanager
    async def _user_transaction(self, *user_ids: int) -> AsyncIterator[aiomysql.Cursor]:
        """A transaction holding a named lock on each user. Caps and online/offline transitions are decided by
        counting the user's rows: without the lock two replicas would count the same snapshot (and gap locks
        on a user's first rows deadlock), so every writer of one user's rows queues here instead. Several
        users' locks are taken in user id order by one statement (and released by one), so writers holding
        many never wait on each other in a cycle."""
        names = [f"switchboard.devices.user.{user_id}" for user_id in sorted(set(user_ids))]
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(
                "SELECT " + ", ".join(["GET_LOCK(%s, %s)"] * len(names)),
                [v for name in names for v in (name, USER_LOCK_WAIT_SECONDS)],
            )
            held = [name for name, locked in zip(names, await cur.fetchone(), strict=True) if locked == 1]
            try:
                if len(held) < len(names):
                    raise Unavailable(f"registry of user(s) {', '.join(map(str, user_ids))} is busy, retry")
                await conn.begin()
                try:
                    yield cur
                except BaseException:
                    await conn.rollback()
                    raise
                await conn.commit()
            finally:
                if held:
                    await cur.execute("SELECT " + ", ".join(["RELEASE_LOCK(%s)"] * len(held)), held)

    @staticmethod
    async def _went_offline(cur: aiomysql.Cursor, user_ids: Sequence[int]) -> list[WentOffline]:
        """Of these users, whose rows the transaction of ``cur`` closed under their locks, the ones with no
        connected row left."""
        if not user_ids:
            return []
        await cur.execute(
            "SELECT user_id, MAX(status = 'connected'), UNIX_TIMESTAMP(MAX(last_heartbeat)) FROM user_connections"
            f" WHERE user_id IN ({_placeholders(user_ids)}) GROUP BY user_id ORDER BY user_id",
            list(user_ids),
        )
        return [WentOffline(user_id, _utc(seen)) for user_id, connected, seen in await cur.fetchall() if not connected]

    @retry_transient
    async def register_device(self, user_id: int, role: str, device_id: str, info: DeviceInfo,
                              max_devices: int) -> Device:
        """Insert or refresh the device and mark it active. Reactivating a kicked device counts against the
        cap like a new one. The user id is bound to ``role`` at its first registration; another role is refused
        with a message that does not say which role holds the id."""
        async with self._user_transaction(user_id) as cur:
            await cur.execute("INSERT IGNORE INTO user_roles (user_id, role) VALUES (%s, %s)", (user_id, role))
            await cur.execute("SELECT role FROM user_roles WHERE user_id = %s", (user_id,))
            if (await cur.fetchone())[0] != role:
                raise Forbidden("registration refused for this id")
            await cur.execute(
                "SELECT COUNT(*), COALESCE(SUM(device_id = %s), 0) FROM user_devices"
                " WHERE user_id = %s AND is_active",
                (device_id, user_id),
            )
            active, this_one_active = await cur.fetchone()
            if not this_one_active and active >= max_devices:
                raise LimitExceeded(f"user {user_id} already has {active} active devices (max {max_devices})")
            values = [value or None for value in dataclasses.astuple(info)]
            await cur.execute(_DEVICE_UPSERT, (user_id, device_id, *values, *values))
            await cur.execute(_DEVICE_SELECT + " WHERE d.user_id = %s AND d.device_id = %s", (user_id, device_id))
            return _device(await cur.fetchone())

    async def list_devices(self, user_id: int) -> list[Device]:
        rows = await self._query(_DEVICE_SELECT + " WHERE d.user_id = %s ORDER BY d.last_login DESC", (user_id,))
        return [_device(row) for row in rows]

    async def list_push_devices(self, user_ids: Sequence[int]) -> list[Device]:
        """The active devices holding a push token of ``user_ids``, in one statement: the notifications intake
        asks for a whole batch's recipients at once. ``uq_user_devices_user_device`` (user_id first) finds the
        rows; a user has few devices, so the token and activity are checked on those rows."""
        if not user_ids:
            return []
        rows = await self._query(
            _DEVICE_SELECT + f" WHERE d.user_id IN ({_placeholders(user_ids)}) AND d.push_token <> ''"
            " AND d.is_active ORDER BY d.user_id, d.last_login DESC", tuple(user_ids))
        return [_device(row) for row in rows]

    async def update_push_token(self, user_id: int, device_id: str, push_token: str, push_provider: str) -> None:
        await self._require_device(user_id, device_id)
        await self._execute(
            "UPDATE user_devices SET push_token = %s, push_provider = %s WHERE user_id = %s AND device_id = %s",
            (push_token or None, push_provider or None, user_id, device_id),
        )

    async def clear_push_token(self, user_id: int, device_id: str, push_token: str) -> bool:
        """Forget ``push_token`` if the device still has it: a token registered after the refused one stays."""
        return bool(await self._execute(
            "UPDATE user_devices SET push_token = NULL, push_provider = NULL"
            " WHERE user_id = %s AND device_id = %s AND push_token = %s",
            (user_id, device_id, push_token),
        ))

    async def _require_device(self, user_id: int, device_id: str) -> None:
        if not await self._query(
            "SELECT 1 FROM user_devices WHERE user_id = %s AND device_id = %s", (user_id, device_id)
        ):
            raise NotFound(f"user {user_id} has no device {device_id!r}")

    @retry_transient
    async def kick_device(self, user_id: int, device_id: str) -> Closed:
        """Deactivate the device and close its connected rows."""
        await self._require_device(user_id, device_id)
        async with self._user_transaction(user_id) as cur:
            await cur.execute(
                "UPDATE user_devices SET is_active = FALSE WHERE user_id = %s AND device_id = %s",
                (user_id, device_id),
            )
            await cur.execute(
                _CLOSE + " WHERE user_id = %s AND device_id = %s AND status = 'connected'", (user_id, device_id)
            )
            count = cur.rowcount
            return Closed(count, await self._went_offline(cur, [user_id] if count else []))

    @retry_transient
    async def register_connection(self, conn: NewConnection, max_sockets_per_device: int) -> ConnectionRegistered:
        async with self._user_transaction(conn.user_id) as cur:
            await cur.execute(
                "SELECT user_id FROM user_connections WHERE connection_id = %s FOR UPDATE", (conn.connection_id,)
            )
            existing = await cur.fetchone()
            if existing is not None and existing[0] != conn.user_id:
                raise Forbidden(f"connection {conn.connection_id!r} belongs to another user")
            await cur.execute(
                "SELECT COUNT(*), COALESCE(SUM(device_id = %s), 0) FROM user_connections"
                " WHERE user_id = %s AND status = 'connected' AND connection_id <> %s",
                (conn.device_id, conn.user_id, conn.connection_id),
            )
            others, same_device = await cur.fetchone()
            if same_device >= max_sockets_per_device:
                raise LimitExceeded(
                    f"device {conn.device_id!r} already has {same_device} sockets (max {max_sockets_per_device})"
                )
            changed = (conn.socket_id, conn.device_id, conn.node_id, conn.ip_address or None, conn.user_agent or None)
            await cur.execute(_CONNECTION_UPSERT, (conn.user_id, conn.connection_id, *changed, *changed))
        return ConnectionRegistered(reconnected=existing is not None, user_came_online=others == 0)

    async def touch_connections(self, node_id: str, connection_ids: Sequence[str]) -> int:
        """One statement for a whole flush of heartbeats. Rows already closed (a stale sweep, a kick) stay
        closed and are not counted, so the edge can tell that it must register them again."""
        if not connection_ids:
            return 0
        return await self._execute(
            "UPDATE user_connections SET last_heartbeat = NOW(3)"
            f" WHERE connection_id IN ({_placeholders(connection_ids)}) AND node_id = %s AND status = 'connected'",
            (*connection_ids, node_id),
        )

    @retry_transient
    async def unregister_connection(self, connection_id: str) -> Closed:
        """Close the row; ``went_offline`` holds the user when this closed the user's last connected socket."""
        owner = await self._query("SELECT user_id FROM user_connections WHERE connection_id = %s", (connection_id,))
        if not owner:
            raise NotFound(f"connection {connection_id!r} is not registered")
        user_id = owner[0][0]
        async with self._user_transaction(user_id) as cur:
            await cur.execute(_CLOSE + " WHERE connection_id = %s AND status = 'connected'", (connection_id,))
            if cur.rowcount == 0:
                return Closed()
            return Closed(1, await self._went_offline(cur, [user_id]))

    async def reset_node(self, node_id: str) -> Closed:
        """Close the node's connected rows (an edge starting again)."""
        return await self._close_where("node_id = %s", (node_id,))

    async def cleanup_stale_connections(self, timeout_seconds: float) -> Closed:
        """Close connected rows whose edge stopped beating. Any number of replicas may sweep at once: each
        closes under the users' locks only the rows still connected, so a row is closed (and its user's
        offline transition reported) once."""
        return await self._close_where("last_heartbeat < NOW(3) - INTERVAL %s MICROSECOND",
                                       (int(timeout_seconds * 1e6),))

    async def _close_where(self, condition: str, args: Sequence[object]) -> Closed:
        """Close the connected rows matching ``condition``, a chunk of users per transaction under their locks
        (like every writer of their rows), so whether a user is left without a connected row is decided
        exactly as UnregisterConnection decides it. A chunk whose locks cannot be had is skipped and counted
        in ``busy_users``; the others still close."""
        candidates = await self._query(
            f"SELECT DISTINCT user_id FROM user_connections WHERE status = 'connected' AND {condition}", args
        )
        user_ids = sorted(row[0] for row in candidates)
        count, went_offline, busy = 0, [], 0
        for start in range(0, len(user_ids), CLOSE_USERS_PER_TRANSACTION):
            chunk = user_ids[start:start + CLOSE_USERS_PER_TRANSACTION]
            try:
                closed = await self._close_users_where(chunk, condition, args)
            except Unavailable:
                busy += len(chunk)
                continue
            count += closed.count
            went_offline += closed.went_offline
        return Closed(count, went_offline, busy)

    @retry_transient
    async def _close_users_where(self, user_ids: Iterable[int], condition: str, args: Sequence[object]) -> Closed:
        user_ids = list(user_ids)
        async with self._user_transaction(*user_ids) as cur:
            # Re-read under the locks: another replica's sweep or a heartbeat may have come first.
            await cur.execute(
                f"SELECT id, user_id FROM user_connections WHERE user_id IN ({_placeholders(user_ids)})"
                f" AND status = 'connected' AND {condition} FOR UPDATE",
                (*user_ids, *args),
            )
            rows = list(await cur.fetchall())
            if not rows:
                return Closed()
            ids = [row[0] for row in rows]
            await cur.execute(_CLOSE + f" WHERE id IN ({_placeholders(ids)})", ids)
            return Closed(len(ids), await self._went_offline(cur, sorted({row[1] for row in rows})))

    async def registry_stats(self) -> RegistryStats:
        """Counts for operators, from the ``(node_id, status)`` index; the devices count scans user_devices, which
        holds at most max_devices_per_user rows per user."""
        nodes = await self._query(
            "SELECT node_id, COUNT(*), COUNT(DISTINCT user_id) FROM user_connections WHERE status = 'connected'"
            " GROUP BY node_id ORDER BY node_id")
        ((online,),) = await self._query(
            "SELECT COUNT(DISTINCT user_id) FROM user_connections WHERE status = 'connected'")
        ((devices,),) = await self._query("SELECT COUNT(*) FROM user_devices WHERE is_active")
        return RegistryStats(int(online), sum(int(n[1]) for n in nodes), int(devices),
                             [(node, int(sockets), int(users)) for node, sockets, users in nodes])

    async def user_role(self, user_id: int) -> str | None:
        """The role the id was bound to at its first registration; None if it never registered."""
        async with self._pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute("SELECT role FROM user_roles WHERE user_id = %s", (user_id,))
            row = await cur.fetchone()
        return row[0] if row else None

    async def get_presence(self, user_ids: Sequence[int]) -> list[Presence]:
        """One entry per requested user, in request order. Grouped by device so the rows read stay few however
        many past connections a user has."""
        wanted = list(dict.fromkeys(user_ids))
        if not wanted:
            return []
        rows = await self._query(
            "SELECT user_id, device_id, MAX(status = 'connected'), UNIX_TIMESTAMP(MAX(last_heartbeat))"
            f" FROM user_connections WHERE user_id IN ({_placeholders(wanted)}) GROUP BY user_id, device_id",
            wanted,
        )
        devices: dict[int, list[str]] = {user_id: [] for user_id in wanted}
        last_seen: dict[int, datetime] = {}
        for user_id, device_id, connected, seen in rows:
            if connected:
                devices[user_id].append(device_id)
            seen_at = _utc(seen)
            if user_id not in last_seen or seen_at > last_seen[user_id]:
                last_seen[user_id] = seen_at
        return [
            Presence(user_id=u, online=bool(devices[u]), device_ids=sorted(devices[u]), last_seen=last_seen.get(u))
            for u in wanted
        ]
