"""The browser SDK (sdk/js, ``@switchboard/client``) run in Node against the real system, over websocket and over
long-polling: a customer whose first edge URL is dead and an agent on the other edge converse through it; ticks,
typing timeout, a page reload with messages queued offline (the same IndexedDB, via fake-indexeddb), and an agent
closing the session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from switchboard.runner import free_port
from tests.support.node import run_node
from tests.support.system import System
from tests.support.users import new_user_id

SDK_DIR = Path(__file__).resolve().parents[2] / "sdk" / "js"
SCRIPT = Path(__file__).resolve().parent / "live.mjs"


async def run_live(system: System, transports: list[str]) -> dict[str, Any]:
    customer_id, agent_id = new_user_id(), new_user_id()
    args = {
        "dead_url": f"http://127.0.0.1:{free_port()}",  # nothing listens: the SDK must move on to the next URL
        "customer": {"url": system.edges[0].url, "user_id": customer_id,
                     "tokens": [system.token(customer_id, "user") for _ in range(10)]},
        "agent": {"url": system.edges[1].url, "user_id": agent_id,
                  "tokens": [system.token(agent_id, "agent") for _ in range(10)]},
        "texts": [f"customer {i}" for i in range(5)],
        "replies": ["agent 0", "agent 1"],
        "offline_texts": [f"offline {i}" for i in range(3)],
        "transports": transports,
        "timeout_ms": 60_000,
    }
    stdout, _ = await run_node(SDK_DIR, "fake-indexeddb", str(SCRIPT), json.dumps(args))
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["customer_id"], result["agent_id"] = customer_id, agent_id
    return result


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_the_js_sdk_holds_a_conversation_and_survives_a_reload(system: System, transport: str) -> None:
    r = await run_live(system, [transport])
    texts = [f"customer {i}" for i in range(5)]
    offline = [f"offline {i}" for i in range(3)]

    # URL rotation: the dead first URL was tried, the live edge took over.
    assert r["customer_url"] == system.edges[0].url
    assert r["customer_statuses"][:1] == ["connecting"] and "connected" in r["customer_statuses"]

    # Sends acknowledged in order; the agent got each message once, in order, before and after the reload.
    assert [a["sequence_number"] for a in r["acks"]] == list(range(1, 6))
    assert [m["text"] for m in r["agent_received"]] == texts + offline
    assert [m["sequence_number"] for m in r["agent_received"]] == list(range(1, 6)) + list(range(8, 11))
    assert r["customer_received"] and [m["text"] for m in r["customer_received"]] == ["agent 0", "agent 1"]

    # Ticks of the customer's messages: sent → delivered → read, never backwards.
    for ack in r["acks"]:
        assert r["ticks"][str(ack["message_id"])] == ["sent", "delivered", "read"]

    # Typing reached the agent and cleared itself there.
    assert r["agent_typing"][0]["is_typing"] is True and r["agent_typing"][0]["user_id"] == r["customer_id"]
    assert r["agent_typing"][-1] == {"session_id": r["session_id"], "user_id": r["customer_id"],
                                     "is_typing": False, "expired": True}

    # The reload: what was queued offline was still pending in IndexedDB and was sent exactly once.
    assert r["pending_after_reload"] == offline
    assert [s["text"] for s in r["reload_acks"]] == offline
    assert not any(s["ack"]["duplicate"] for s in r["reload_acks"])
    assert r["pending_at_end"] == 0
    assert r["history"] == [*texts, "agent 0", "agent 1", *offline]

    # The console: the agent's open sessions, a close both sides heard of, and sends refused after it.
    assert r["session_id"] in r["agent_sessions"]
    assert r["closed"]["status"] == "closed"
    assert any(s["reason"] == "closed" for s in r["agent_session_updates"])
    assert r["after_close_error"] == {"code": "FORBIDDEN", "name": "SwitchboardError"}

    # One fresh token per connect attempt: each customer page (the first and the reloaded one) tried the dead
    # URL, then the live one.
    assert r["token_calls"]["customer"] == 4
    assert r["token_calls"]["agent"] == 1
