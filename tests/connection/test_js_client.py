"""Front-end teams' standard JavaScript client works unchanged: the official ``socket.io-client`` 4.x (pinned in
tests/js/package.json, installed by ``scripts/setup``) drives a customer on one edge node and an agent on the
other, over WebSocket and over HTTP long-polling (what clients behind proxies fall back to)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from switchboard.deployment import Deployment
from tests.support.node import run_node
from tests.support.system import System
from tests.support.users import new_user_id

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SCRIPT = JS_DIR / "conversation.mjs"
MESSAGES = 20


async def run_conversation(system: Deployment, transports: list[str],
                           urls: tuple[str, str] | None = None) -> dict[str, Any]:
    """The script's result; the customer on the first edge and the agent on the second unless ``urls`` says
    where each connects (nginx, in the cluster tests)."""
    customer_id, agent_id = new_user_id(), new_user_id()
    customer_url, agent_url = urls or (system.edges[0].url, system.edges[1].url)
    args = {
        "customer": {"url": customer_url, "token": system.token(customer_id, "user"), "user_id": customer_id},
        "agent": {"url": agent_url, "token": system.token(agent_id, "agent"), "user_id": agent_id},
        "transports": transports,
        "count": MESSAGES,
        "timeout_ms": 60_000,
    }
    stdout, _ = await run_node(JS_DIR, "socket.io-client", str(SCRIPT), json.dumps(args))
    lines = stdout.strip().splitlines()
    assert len(lines) == 1, stdout
    result = json.loads(lines[0])
    result["customer_id"], result["agent_id"] = customer_id, agent_id
    return result


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_the_standard_js_client_holds_a_conversation_across_nodes(system: System, transport: str) -> None:
    check_conversation(await run_conversation(system, [transport]), transport)


def check_conversation(result: dict[str, Any], transport: str) -> None:
    """Every message acknowledged in order, shown once in order, receipted; errors in the contract's shape."""
    assert result["customer_transport"] == result["agent_transport"] == transport  # no silent upgrade
    assert result["heartbeat_interval"]

    acks, received = result["acks"], result["received"]
    assert len(acks) == MESSAGES
    assert [a["sequence_number"] for a in acks] == list(range(1, MESSAGES + 1))
    assert not any(a["duplicate"] for a in acks)

    # Every message arrives once, in order, with consecutive sequence numbers, as it was acknowledged.
    assert [m["text"] for m in received] == [f"js {i}" for i in range(MESSAGES)]
    seqs = [m["sequence_number"] for m in received]
    assert seqs == list(range(seqs[0], seqs[0] + MESSAGES))
    assert [(m["id"], m["sequence_number"], m["client_msg_id"]) for m in received] == [
        (a["message_id"], a["sequence_number"], a["client_msg_id"]) for a in acks]
    for m in received:
        assert m["session_id"] == result["session_id"]
        assert (m["from"], m["from_user_id"], m["to_user_id"]) == ("user", result["customer_id"], result["agent_id"])

    # The agent's delivery acknowledgements succeed and the customer sees a delivered receipt for each message.
    assert all(r["success"] for r in result["delivered_replies"]), result["delivered_replies"]
    delivered = {s["message_id"] for s in result["statuses"] if s["status"] == "delivered"}
    assert delivered == {a["message_id"] for a in acks}
    assert all(s["session_id"] == result["session_id"] for s in result["statuses"])

    # Failures answer with the contract's error shape.
    error = result["error"]
    assert error["success"] is False
    assert error["error"]["code"] == "INVALID_ARGUMENT"
    assert error["error"]["message"]
