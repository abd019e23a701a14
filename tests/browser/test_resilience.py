"""What a real browser goes through: the network drops and the page is reloaded with a message still unsent
(the SDK's IndexedDB outbox sends it once the page is back and online, exactly once), and the edge the page
talks to is killed mid-conversation (the page reconnects to the other edge; nothing is lost or doubled)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from switchboard.runner import NatsServer
from tests.browser.conftest import Browsers, start_web_system
from tests.browser.pages import TIMEOUT_MS
from tests.browser.test_conversation import _talking
from tests.support.system import System


async def _stored(system: System, session_id: str, text: str) -> int:
    rows = await system.query("SELECT COUNT(*) FROM chat_messages WHERE session_id = %s AND message = %s",
                              session_id, text)
    return int(rows[0][0])


async def test_a_reload_restores_history_and_sends_what_was_unsent_exactly_once(
        web_system: System, browsers: Browsers) -> None:
    customer, agent, session_id = await _talking(web_system, browsers)
    chat, pane = customer.conversation(), agent.conversation(session_id)
    await chat.send("Before the tunnel")
    await pane.send("Noted")
    await chat.expect_texts(["Before the tunnel", "Noted"])

    context = customer.page.context
    await context.set_offline(True)
    await expect(customer.banner()).to_have_text("Connection lost — reconnecting…", timeout=TIMEOUT_MS)
    await chat.send("Sent in the tunnel")
    await chat.expect_tick("Sent in the tunnel", "pending")
    await browsers.shot(customer, "offline")
    # the page goes away while offline (a reload, the tab closed); the browser's storage keeps the outbox
    await customer.page.wait_for_function("""async () => (await (await window.switchboard).pendingMessages())
                                             .some((m) => m.message === "Sent in the tunnel")""")
    await customer.page.close()
    await context.set_offline(False)
    customer = await browsers.widget(customer.edge_url, customer.edges, customer.user_id, context=context)
    chat = customer.conversation()
    await chat.expect_texts(["Before the tunnel", "Noted", "Sent in the tunnel"])
    await chat.expect_tick("Sent in the tunnel", "read")  # the agent's pane is open and visible
    await pane.expect_texts(["Before the tunnel", "Noted", "Sent in the tunnel"])
    await customer.reload()  # and a plain reload shows the same history, once, and that the agent is there
    await customer.conversation().expect_texts(["Before the tunnel", "Noted", "Sent in the tunnel"])
    await customer.expect_agent_online(True)  # asked as the page loads: no presence change came since
    assert await _stored(web_system, session_id, "Sent in the tunnel") == 1
    assert not customer.errors, customer.errors


async def test_an_edge_killed_mid_conversation_the_page_moves_to_the_other_edge(
        mysql_url: str, nats_server: NatsServer, tmp_path: Path, browsers: Browsers) -> None:
    system = await start_web_system(mysql_url, nats_server, tmp_path)
    try:
        customer, agent, session_id = await _talking(system, browsers)  # customer on edge 1, agent on edge 2
        chat, pane = customer.conversation(), agent.conversation(session_id)
        await chat.send("One")
        await pane.send("Two")
        await chat.expect_texts(["One", "Two"])

        await customer.page.evaluate("""async () => { window.statuses = [];
            (await window.switchboard).on("status", (status) => window.statuses.push(status)); }""")
        await system.edges[0].process.kill()
        # the other edge is up, so the banner may only flash: the page's own record says it reconnected
        await customer.page.wait_for_function("window.statuses.includes('reconnecting')", timeout=TIMEOUT_MS)
        await chat.send("Three, while reconnecting")
        await pane.send("Four, while the customer is away")
        await customer.expect_connected()  # on edge 2 now
        await chat.send("Five")
        expected = ["One", "Two", "Three, while reconnecting", "Four, while the customer is away", "Five"]
        await chat.expect_texts(expected)
        await pane.expect_texts(expected)
        for text in expected:
            assert await _stored(system, session_id, text) == 1, text
        await chat.expect_tick("Five", "read")
        await browsers.shot(customer, "after-failover")
        assert await customer.page.evaluate("async () => (await window.switchboard).url") == system.edges[1].url
    finally:
        await browsers.close()  # the pages go before their edges
        await system.stop()
