"""An agent bot: answers every customer message through the Switchboard SDK.

    SWITCHBOARD_URL=http://127.0.0.1:8000 SWITCHBOARD_AGENT_ID=2 SWITCHBOARD_AGENT_TOKEN=… \\
        python -m examples.agent_bot [--session SESSION_ID ...]

It joins the sessions named on the command line and every session it hears of through ``session_updated``
(a customer opened one and no agent holds it), then replies to each customer message. Replies go through the
SDK's send queue, so a reply written while the connection is down is sent after the reconnect, once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Callable
from typing import Any

from client import ConnectionStatus, RequestError, WebSocketClient

log = logging.getLogger("examples.agent_bot")


def default_reply(text: str) -> str:
    """Stands in for whatever the bot really does (a rules engine, an LLM, a ticket lookup)."""
    return f"Thanks for your message: “{text}”. An agent will follow up shortly."


class AgentBot:
    """The bot's behaviour, apart from process setup, so it can be driven from tests or other programs."""

    def __init__(self, client: WebSocketClient, agent_id: int,
                 reply: Callable[[str], str] = default_reply) -> None:
        self.client, self.agent_id, self.reply = client, agent_id, reply
        self.joined: set[str] = set()
        client.on_message(self.on_message)
        client.on_session_updated(self.on_session_updated)
        client.on_status_change(lambda status: log.info("connection %s", status.value))
        client.on_send_failed(lambda msg, err: log.warning("reply %s refused: %s", msg["client_msg_id"], err))
        client.on_kicked(lambda kick: log.warning("kicked: %s", kick.get("reason")))

    def join(self, session_id: str) -> None:
        """Callbacks run on the SDK's callback thread, where the blocking API is allowed."""
        if session_id in self.joined:
            return
        try:
            self.client.join_session(session_id)
        except RequestError as exc:
            log.warning("cannot join %s: %s", session_id, exc)
            return
        self.joined.add(session_id)
        log.info("joined session %s", session_id)

    def on_session_updated(self, update: dict[str, Any]) -> None:
        if update.get("status") == "open" and not update.get("agent_id"):
            self.join(update["session_id"])

    def on_message(self, msg: dict[str, Any]) -> None:
        if msg.get("from_user_id") == self.agent_id or msg.get("from") == "agent":
            return  # our own replies, echoed from another device of this agent
        self.joined.add(msg["session_id"])
        self.client.send_message_read(message_id=msg["id"])
        self.client.send_message(msg["session_id"], self.reply(msg["text"]), role="agent",
                                 reply_to_message_id=msg["id"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("SWITCHBOARD_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--agent-id", type=int, default=int(os.environ.get("SWITCHBOARD_AGENT_ID", "0")))
    parser.add_argument("--token", default=os.environ.get("SWITCHBOARD_AGENT_TOKEN", ""))
    parser.add_argument("--session", action="append", default=[], help="a session to join (repeatable)")
    parser.add_argument("--queue-path", default=os.environ.get("SWITCHBOARD_QUEUE_PATH"),
                        help="SQLite file for unsent replies (survive a crash)")
    args = parser.parse_args(argv)
    if not args.agent_id or not args.token:
        parser.error("--agent-id and --token (or SWITCHBOARD_AGENT_ID / SWITCHBOARD_AGENT_TOKEN) are required")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with WebSocketClient(args.url, queue_path=args.queue_path) as client:
        bot = AgentBot(client, args.agent_id)
        client.on_kicked(lambda _: stop.set())
        client.on_status_change(lambda s: s is ConnectionStatus.DISCONNECTED and stop.set())
        client.connect(user_id=args.agent_id, token=args.token,
                       device_info={"device_name": "agent-bot", "device_type": "other"}, timeout=30)
        for session_id in args.session:
            bot.join(session_id)
        stop.wait()


if __name__ == "__main__":
    main()
