"""The ``switchboard`` command: run the whole system, one service, migrations, tokens and benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

import pymysql

from switchboard import certs
from switchboard import settings as settings_mod
from switchboard.auth import ROLES, WeakSecret, issue_token
from switchboard.contract.rpcs import OPERATOR as OPERATOR_CALLER
from switchboard.datadir import DEFAULT as DEFAULT_DATA_DIR
from switchboard.datadir import DataDir
from switchboard.db import MySQLURL
from switchboard.grpc import is_loopback
from switchboard.migrate import migrate
from switchboard.nats_auth import OPERATOR as NATS_OPERATOR
from switchboard.nats_auth import ROLE_OF_SERVICE, NatsAuth
from switchboard.ops.commands import add_commands as add_operator_commands
from switchboard.runner import ChildError, NatsServer, ServiceProcess, first_exit, stop_all

SERVICES = ("devices", "messaging", "notifications", "connection")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def migration_folders() -> dict[str, Path]:
    """Each service owns the migrations of its own tables."""
    root = Path(__file__).resolve().parent.parent / "services"
    return {name: root / name / "migrations" for name in ("devices", "messaging", "notifications")}


def _mysql_help(url: str, error: Exception) -> str:
    target = MySQLURL.parse(url)
    return (
        f"Cannot reach MySQL at {target.host}:{target.port} ({error}).\n"
        "Start one, then run this again:\n"
        "  docker compose up -d mysql   # MySQL 8 from docker-compose.yml, then\n"
        "  export SWITCHBOARD_MYSQL_URL=mysql://root:switchboard-root@127.0.0.1:3306/switchboard\n"
        "  sudo apt-get install -y mariadb-server && sudo service mariadb start   # or Debian's MariaDB\n"
        "or point SWITCHBOARD_MYSQL_URL at yours (mysql://user:password@host:3306/switchboard)."
    )


def check_mysql(url: str) -> None:
    target = MySQLURL.parse(url)
    try:
        pymysql.connect(host=target.host, port=target.port, user=target.user, password=target.password,
                        connect_timeout=3).close()
    except pymysql.err.OperationalError as exc:
        raise SystemExit(_mysql_help(url, exc)) from None


def cmd_migrate(args: argparse.Namespace) -> None:
    url = args.mysql_url or os.environ.get("SWITCHBOARD_MYSQL_URL", settings_mod.CommonSettings.mysql_url)
    check_mysql(url)
    applied = asyncio.run(migrate(url, migration_folders()))
    print(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none, schema is current'}")


def cmd_token(args: argparse.Namespace) -> None:
    """Signed with $SWITCHBOARD_JWT_SECRET, else with the development secret ``up`` keeps in its data dir."""
    secret = os.environ.get("SWITCHBOARD_JWT_SECRET") or DataDir(args.data_dir).read_jwt_secret()
    if not secret:
        raise SystemExit(f"switchboard token: no secret; set SWITCHBOARD_JWT_SECRET, or run `switchboard up` "
                         f"first (it keeps a development secret in {DataDir(args.data_dir).root}/)")
    try:
        print(issue_token(args.user_id, args.role, secret, ttl_seconds=args.ttl))
    except WeakSecret as exc:
        raise SystemExit(f"switchboard token: {exc}") from None


def cmd_certs(args: argparse.Namespace) -> None:
    directory = certs.ensure(Path(args.dir), clients=(*certs.DEFAULT_CLIENTS, *args.client), hosts=args.host)
    print(f"CA and certificates in {directory} (existing ones kept): ca.pem, NAME.pem and NAME-key.pem for "
          f"{', '.join([*certs.SERVERS, *certs.DEFAULT_CLIENTS, *args.client])}")


def cmd_serve(args: argparse.Namespace) -> None:
    try:
        importlib.import_module(f"services.{args.service}.app").serve()
    except WeakSecret as exc:
        raise SystemExit(f"switchboard serve {args.service}: {exc}") from None


def _nats_login(nats: list[NatsServer], service: str) -> dict[str, str]:
    """The bundled NATS server's credentials for ``service``; none with an external NATS (the environment's)."""
    return nats[0].auth.env(ROLE_OF_SERVICE[service]) if nats else {}


async def _up(args: argparse.Namespace) -> None:
    """Start everything, then supervise: a stop signal (Ctrl-C, SIGTERM, SIGHUP) stops everything in order
    within the budget; a child that exits, or that is not what answers on its port, stops everything and fails.
    The children die with this process even if it is SIGKILLed (:class:`ManagedProcess`)."""
    env = dict(os.environ)
    env.setdefault("SWITCHBOARD_LOG_FORMAT", "text")
    mysql_url = env.setdefault("SWITCHBOARD_MYSQL_URL", settings_mod.CommonSettings.mysql_url)
    check_mysql(mysql_url)
    print(f"migrations: {await migrate(mysql_url, migration_folders()) or 'schema is current'}")
    loop, main = asyncio.get_running_loop(), asyncio.current_task()
    assert main is not None
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, main.cancel)
    data = DataDir(args.data_dir)
    where = "" if args.data_dir is None else f" --data-dir {data.root}"  # how the other commands find it
    if "SWITCHBOARD_JWT_SECRET" not in env:
        env["SWITCHBOARD_JWT_SECRET"] = data.jwt_secret()
        print(f"jwt: development secret in {data.root}/jwt-secret; a token: "
              f"switchboard token{where} --user-id 123 --role user")
    pki = data.pki()
    print(f"grpc: mutual TLS with the development CA in {pki}")
    nats: list[NatsServer] = []
    backends: list[ServiceProcess] = []
    edges: list[ServiceProcess] = []
    try:
        if "SWITCHBOARD_NATS_URL" not in env:
            prefix = env.get("SWITCHBOARD_NATS_PREFIX", settings_mod.CommonSettings.nats_prefix)
            nats.append(NatsServer(data.nats_store, port=args.nats_port or None, auth=data.nats_auth(prefix)))
            await nats[0].start()
            env["SWITCHBOARD_NATS_URL"] = nats[0].url
            print(f"nats: bundled nats-server with JetStream at {nats[0].url} (services log in with credentials "
                  f"from {data.root}), data in {data.nats_store}")
        for service, http_port in (("devices", 8102), ("messaging", 8101), ("notifications", 8103)):
            backends.append(ServiceProcess(
                service, int(env.get(f"SWITCHBOARD_{service.upper()}_HTTP_PORT", http_port)),
                {**env, **_nats_login(nats, service), **certs.service_env(pki, service)}))
            await backends[-1].start()
        base = int(env.get("SWITCHBOARD_EDGE_PORT", 8000))
        admin_base = int(env.get("SWITCHBOARD_EDGE_ADMIN_PORT", 8200))
        _browser_pages(env, base, args.edges)
        for i in range(args.edges):
            edge_env = {**env, **_nats_login(nats, "connection"), **certs.service_env(pki, "connection"),
                        "SWITCHBOARD_EDGE_PORT": str(base + i),
                        "SWITCHBOARD_EDGE_ADMIN_PORT": str(admin_base + i), "SWITCHBOARD_NODE_ID": f"edge-{i + 1}"}
            edges.append(ServiceProcess("connection", admin_base + i, edge_env, name=f"edge-{i + 1}"))
            await edges[-1].start()
        data.write_operator_env(operator_env(env, nats[0].auth if nats else None, pki,
                                             [f"http://127.0.0.1:{admin_base + i}" for i in range(args.edges)]))
        print(f"operator: switchboard status{where} (and sessions, devices, kick, send-system) find this system "
              f"through {data.operator_env_path} with the operator's own NATS user and certificate")
        print(f"switchboard is up: socket.io on http://127.0.0.1:{_ports(base, args.edges)}, edge health and "
              f"metrics on :{_ports(admin_base, args.edges)} (Ctrl-C stops everything)")
        exited = await first_exit([*nats, *backends, *edges])
        raise ChildError(f"{exited.name} exited with {exited.proc and exited.proc.returncode}")
    except asyncio.CancelledError:
        main.uncancel()  # a stop signal: stop everything below, and exit 0
    finally:
        for sig in STOP_SIGNALS:  # a second signal takes the default action; the children die with us
            loop.remove_signal_handler(sig)
        await stop_all([edges, *([p] for p in reversed(backends)), nats])


# What the operator tools share with the services: where MySQL, NATS and the gRPC APIs are (when set).
_SHARED_WITH_OPERATOR = ("SWITCHBOARD_MYSQL_URL", "SWITCHBOARD_NATS_URL", "SWITCHBOARD_NATS_PREFIX",
                         "SWITCHBOARD_NATS_TLS_CA", "SWITCHBOARD_DEVICES_GRPC_TARGET",
                         "SWITCHBOARD_MESSAGING_GRPC_TARGET")


def operator_env(env: Mapping[str, str], nats_auth: NatsAuth | None, pki: Path, edge_admin_urls: list[str]
                 ) -> dict[str, str]:
    """The operator tools' settings for a running system (``up``'s, the loopback cluster's;
    switchboard.ops.settings): its addresses, and the operator's credentials, never a service's — the
    ``operator`` NATS user (of the NATS started with the system; with an external NATS the operator brings their
    own) and the ``operator`` client certificate of ``pki``."""
    return {**{key: env[key] for key in _SHARED_WITH_OPERATOR if key in env},
            **(nats_auth.env(NATS_OPERATOR) if nats_auth else {}), **certs.files(pki, OPERATOR_CALLER).env(),
            "SWITCHBOARD_EDGE_ADMIN_URLS": ",".join(edge_admin_urls)}


def _browser_pages(env: dict[str, str], base: int, edges: int) -> None:
    """Local development in a browser: the edges' pages may connect to every edge, and, unless told otherwise
    (or impossible: a public bind host, RS256 tokens), the pages get tokens from the edges' development endpoint,
    which mints one for any user and role, so ``up`` says so."""
    pages = [f"http://{host}:{base + i}" for i in range(edges) for host in ("127.0.0.1", "localhost")]
    env.setdefault("SWITCHBOARD_CORS_ALLOWED_ORIGINS", ",".join(pages))
    if "SWITCHBOARD_DEV_TOKEN_ENDPOINT" not in env and not env.get("SWITCHBOARD_JWT_PUBLIC_KEY") \
            and is_loopback(env.get("SWITCHBOARD_BIND_HOST", settings_mod.CommonSettings.bind_host)):
        env["SWITCHBOARD_DEV_TOKEN_ENDPOINT"] = "true"
        print("dev tokens: ON — POST /dev/token on every edge mints a token for ANY user and role (development "
              "only; SWITCHBOARD_DEV_TOKEN_ENDPOINT=false turns it off)")
    print(f"pages: customer widget {pages[0]}/widget/, agent console {pages[0]}/console/?role=agent")


def _ports(first: int, count: int) -> str:
    return f"{first}..{first + count - 1}" if count > 1 else str(first)


def cmd_up(args: argparse.Namespace) -> None:
    try:
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C before the handlers are in place, or a second one
            asyncio.run(_up(args))
    except (ChildError, TimeoutError) as exc:
        raise SystemExit(f"switchboard up failed, everything it started is stopped: {exc}") from None


def cmd_bench(args: argparse.Namespace) -> None:
    importlib.import_module("bench.__main__").main(args.bench_args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start NATS (bundled), apply migrations, run all services")
    up.add_argument("--edges", type=int, default=1,
                    help="connection-service nodes, on ports 8000, 8001, ... (admin ports 8200, 8201, ...)")
    up.add_argument("--nats-port", type=int, default=0,
                    help="port of the bundled nats-server (default: a free one; 4222 is often taken)")
    up.add_argument("--data-dir", help=f"the bundled nats-server's store, development secrets and certificates "
                                       f"(default: {DEFAULT_DATA_DIR}/ here)")
    up.set_defaults(func=cmd_up)

    mig = sub.add_parser("migrate", help="create the database if missing and apply pending migrations")
    mig.add_argument("--mysql-url", help="default: $SWITCHBOARD_MYSQL_URL")
    mig.set_defaults(func=cmd_migrate)

    tok = sub.add_parser("token", help="print a development JWT (HS256, $SWITCHBOARD_JWT_SECRET or up's secret)")
    tok.add_argument("--user-id", type=int, required=True)
    tok.add_argument("--role", choices=sorted(ROLES), default="user")
    tok.add_argument("--ttl", type=int, default=24 * 3600, help="seconds")
    tok.add_argument("--data-dir", help=f"up's data dir, for its development secret (default: {DEFAULT_DATA_DIR}/)")
    tok.set_defaults(func=cmd_token)

    crt = sub.add_parser("certs", help="a development CA and gRPC certificates (mutual TLS) in a directory")
    crt.add_argument("--dir", required=True, help="where the PEM files go (the CA is reused if there)")
    crt.add_argument("--client", action="append", default=[],
                     help="also a client certificate for this outside backend (its name in the callers file)")
    crt.add_argument("--host", action="append", default=[], help="another name or address of the servers")
    crt.set_defaults(func=cmd_certs)

    srv = sub.add_parser("serve", help="run one service in this process")
    srv.add_argument("service", choices=SERVICES)
    srv.set_defaults(func=cmd_serve)

    bench = sub.add_parser("bench", help="run benchmarks (python -m bench --help)")
    bench.add_argument("bench_args", nargs=argparse.REMAINDER)
    bench.set_defaults(func=cmd_bench)

    add_operator_commands(sub)  # status, sessions, devices, kick, send-system (switchboard.ops)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
