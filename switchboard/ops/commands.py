"""The operator commands of ``switchboard`` (:func:`add_commands` registers them on its parser).

Each command builds its settings from the environment and ``up``'s data dir (:mod:`switchboard.ops.settings`),
opens what it reads through :class:`~switchboard.ops.sources.Sources`, prints a table, and exits 1 with the
error's code when the system refused or could not be reached, so scripts can rely on the status."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable

from switchboard.datadir import DEFAULT as DEFAULT_DATA_DIR
from switchboard.errors import SwitchboardError
from switchboard.ops import devices, messages, sessions, status
from switchboard.ops.settings import load_settings
from switchboard.ops.sources import Sources

Action = Callable[[Sources, argparse.Namespace], Awaitable[tuple[str, bool]]]


def _run(action: Action) -> Callable[[argparse.Namespace], None]:
    def command(args: argparse.Namespace) -> None:
        # The NATS client logs its own closing as a disconnection: a service's warning, a command's noise.
        logging.getLogger("switchboard.nats").setLevel(logging.ERROR)
        async def main() -> tuple[str, bool]:
            src = Sources(load_settings(args.data_dir))
            try:
                return await action(src, args)
            finally:
                await src.close()

        try:
            output, ok = asyncio.run(main())
        except SwitchboardError as exc:
            raise SystemExit(f"switchboard {args.command}: {exc.code}: {exc.message}") from None
        except (OSError, TimeoutError) as exc:
            raise SystemExit(f"switchboard {args.command}: unreachable: {type(exc).__name__}: {exc}") from None
        print(output)
        if not ok:
            sys.exit(1)

    return command


def _done(output: Awaitable[str]) -> Awaitable[tuple[str, bool]]:
    async def wrap() -> tuple[str, bool]:
        return await output, True

    return wrap()


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help=f"a `switchboard up`'s data dir: its addresses and the operator's "
                                           f"credentials there (default: {DEFAULT_DATA_DIR}/ here, if up ran "
                                           f"there); SWITCHBOARD_* variables set in the environment win")
    st = sub.add_parser("status", parents=[common],
                        help="edges and sockets, online users, offline backlog, retry queue, NATS stream")
    st.set_defaults(func=_run(lambda src, a: status.run(src)))

    ses = sub.add_parser("sessions", help="list sessions, or show one with its last messages")
    ses_sub = ses.add_subparsers(dest="sessions_command", required=True)
    ls = ses_sub.add_parser("list", parents=[common],
                            help="sessions, newest last (all, waiting, or one agent's or customer's)")
    ls.add_argument("--status", choices=("open", "closed"), default="", help="default: both")
    who = ls.add_mutually_exclusive_group()
    who.add_argument("--agent", type=int, help="this agent's sessions")
    who.add_argument("--user", type=int, help="this customer's sessions")
    who.add_argument("--waiting", action="store_true", help="open sessions no agent has taken")
    ls.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")
    ls.set_defaults(func=_run(lambda src, a: _done(sessions.list_sessions(
        src, a.status, a.agent, a.user, a.waiting, a.limit))))
    show = ses_sub.add_parser("show", parents=[common], help="one session and its last messages")
    show.add_argument("session_id")
    show.add_argument("--messages", type=int, default=20, help="how many of the last messages (0-200, default 20)")
    show.set_defaults(func=_run(lambda src, a: _done(sessions.show_session(src, a.session_id, a.messages))))

    dev = sub.add_parser("devices", help="a user's devices")
    dev_sub = dev.add_subparsers(dest="devices_command", required=True)
    dl = dev_sub.add_parser("list", parents=[common], help="a user's devices, online or not, with their sockets")
    dl.add_argument("--user", type=int, required=True)
    dl.set_defaults(func=_run(lambda src, a: _done(devices.list_devices(src, a.user))))

    kick = sub.add_parser("kick", parents=[common], help="deactivate a user's device(s) and close their sockets")
    kick.add_argument("--user", type=int, required=True)
    kick.add_argument("--device", action="append", default=[], help="a device id (repeat; default: every device)")
    kick.add_argument("--reason", default="kicked by an operator", help="told to the kicked sockets")
    kick.set_defaults(func=_run(lambda src, a: _done(devices.kick(src, a.user, a.device, a.reason))))

    send = sub.add_parser("send-system", parents=[common],
                          help="a system message into a session or a customer's open session")
    to = send.add_mutually_exclusive_group(required=True)
    to.add_argument("--session", default="", help="the session id")
    to.add_argument("--user", type=int, default=0, help="the customer: their latest open session")
    send.add_argument("--text", required=True)
    send.add_argument("--idempotency-key", default="", help="sending again with the same key sends nothing new")
    send.set_defaults(func=_run(lambda src, a: _done(messages.send_system(
        src, a.text, a.session, a.user, a.idempotency_key))))
