"""A NATS cluster: servers joined by routes, JetStream replicated across them.

JetStream's production floor is three servers: a stream at three replicas keeps taking writes with one server
down (two of three are a quorum), and its leader moves to a survivor. Clients are given every server's URL
(``SWITCHBOARD_NATS_URL`` is a comma-separated list) and move to another when theirs goes away.

Every server admits the same users (:mod:`switchboard.nats_auth`: one generated :class:`NatsAuth` for the whole
cluster). Routes authenticate too, as a user of their own (``route``), so a process that reaches a cluster port
cannot join the cluster and read every subject: nats-server takes a route's credentials only from its URL, so
the URLs carry the password (written into 0600 files here; compose passes them on the command line).

Generated here: the loopback cluster the tests run (:class:`NatsCluster`) and ``deploy/cluster/nats.conf`` for
the cluster layout (``python -m switchboard.nats_cluster``; a test fails when it drifts).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Sequence
from pathlib import Path

import nats
from nats.js.errors import APIError

from switchboard.nats_auth import ADMIN, ANY_PREFIX, OPERATOR, SERVICE_ROLES, EnvRef, NatsAuth
from switchboard.runner import NatsServer, free_port, stop_all

ROUTE_USER = "route"
ROUTE_PASSWORD_VARIABLE = "SWITCHBOARD_NATS_ROUTE_PASSWORD"
CLUSTER_NAME = "switchboard"
COMPOSE_CLUSTER_PORT = 6222
COMPOSE_USERS_FILE = "users.conf"


def route_url(host: str, port: int, password: str) -> str:
    return f"nats-route://{ROUTE_USER}:{password}@{host}:{port}"


def cluster_block(listen: str, password: str | EnvRef, routes: Sequence[str] = ()) -> str:
    """The ``cluster`` block of one server: where it listens for routes, who may connect as one, and the routes
    it solicits (every server of the cluster, itself included: a server drops a route to itself)."""
    secret = f"${password.name}" if isinstance(password, EnvRef) else json.dumps(password)
    lines = [f"  name: {json.dumps(CLUSTER_NAME)}", f"  listen: {json.dumps(listen)}",
             f"  authorization {{ user: {json.dumps(ROUTE_USER)}, password: {secret} }}"]
    if routes:
        lines.append("  routes: [" + ", ".join(json.dumps(r) for r in routes) + "]")
    return "cluster {\n" + "\n".join(lines) + "\n}\n"


class NatsCluster:
    """``size`` JetStream-enabled nats-server processes on free loopback ports, routed to each other, each
    storing under ``store_dir / name``. The same duck type as :class:`NatsServer` for a deployment: ``url``
    (every server), ``auth``, ``admin_url``."""

    def __init__(self, store_dir: Path, size: int = 3, log_dir: Path | None = None,
                 auth: NatsAuth | None = None) -> None:
        self.auth = auth or NatsAuth.generate(ANY_PREFIX, (*SERVICE_ROLES, OPERATOR, ADMIN))
        self.route_password = secrets.token_urlsafe(24)
        self.route_ports = route_ports = [free_port() for _ in range(size)]
        routes = [route_url("127.0.0.1", port, self.route_password) for port in route_ports]
        names = [f"nats-{i + 1}" for i in range(size)]
        self.nodes = [
            NatsServer(store_dir / name, log_path=log_dir / f"{name}.log" if log_dir else None, auth=self.auth,
                       extra_config=cluster_block(f"127.0.0.1:{port}", self.route_password, routes), name=name)
            for name, port in zip(names, route_ports, strict=True)
        ]

    @property
    def url(self) -> str:
        return ",".join(node.url for node in self.nodes)

    @property
    def admin_url(self) -> str:
        """Every server's URL with the admin's credentials (comma-separated: split it for a client)."""
        return ",".join(node.admin_url for node in self.nodes)

    def node(self, server_name: str) -> NatsServer:
        return next(node for node in self.nodes if node.server_name == server_name)

    async def start(self, timeout: float = 30) -> NatsCluster:
        """Start every server, then wait until JetStream answers (the cluster elected its meta leader): until
        then a stream cannot be created."""
        try:
            await asyncio.gather(*(node.start() for node in self.nodes))
            await self.wait_jetstream(timeout)
        except BaseException:
            await self.stop()
            raise
        return self

    async def wait_jetstream(self, timeout: float) -> None:
        nc = await nats.connect(servers=self.admin_url.split(","), connect_timeout=5)
        try:
            js = nc.jetstream(timeout=2)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    await js.account_info()
                    return
                except (APIError, TimeoutError, nats.errors.Error):
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"no JetStream meta leader after {timeout}s") from None
                    await asyncio.sleep(0.2)
        finally:
            await nc.close()

    async def stop(self) -> None:
        await stop_all([self.nodes])


def compose_config() -> str:
    """``deploy/cluster/nats.conf``: one file for the three servers of the cluster layout. The users are the
    single-host layout's (``deploy/nats.conf``, mounted beside it as ``users.conf``), so the two never differ;
    each server is named on its command line (``-n``) and given its routes there (``--routes``), where compose
    puts the route password in the URLs. Every password comes from the containers' environment."""
    header = ("# Generated by `python -m switchboard.nats_cluster` (switchboard/nats_cluster.py); a test fails when "
              "it drifts.\n# Passwords come from the NATS containers' environment (deploy/cluster/compose.yaml), "
              "which also\n# gives each server its name (-n) and its routes (--routes, with the route password).\n"
              "# users.conf is deploy/nats.conf: the services' users, as in the single-host layout.\n")
    return (header + f"include {json.dumps(COMPOSE_USERS_FILE)}\n"
            + cluster_block(f"0.0.0.0:{COMPOSE_CLUSTER_PORT}", EnvRef(ROUTE_PASSWORD_VARIABLE)))


if __name__ == "__main__":
    print(compose_config(), end="")
