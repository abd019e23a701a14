"""A customer in the widget and an agent in the console, each page served by a different edge and connected to
it, in headless Chromium: messages both ways exactly once, ticks sent → delivered → read, unread counts,
typing that shows and times out, Chinese and English."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import Browsers
from tests.browser.pages import TIMEOUT_MS, ConsolePage, WidgetPage
from tests.support.system import System


async def _talking(web_system: System, browsers: Browsers) -> tuple[WidgetPage, ConsolePage, str]:
    """A customer page on edge 1 and an agent page on edge 2; the agent took the customer's new chat."""
    first, second = web_system.edges
    customer = await browsers.widget(first.url, [first.url, second.url])
    agent = await browsers.console(second.url, [second.url, first.url])
    await customer.start_chat()
    session_id = await customer.session_id()
    await expect(agent.queued(session_id)).to_be_visible(timeout=TIMEOUT_MS)
    await agent.take(session_id)
    await expect(customer.conversation().message("An agent joined")).to_be_visible(timeout=TIMEOUT_MS)
    return customer, agent, session_id


async def test_ticks_move_sent_delivered_read_and_unread_counts_follow(web_system: System,
                                                                      browsers: Browsers) -> None:
    customer, agent, session_id = await _talking(web_system, browsers)
    chat, pane = customer.conversation(), agent.conversation(session_id)
    for page in (customer.page, agent.page):  # screen readers announce new messages
        await expect(page.locator(".messages")).to_have_attribute("aria-live", "polite")
    await agent.set_hidden(True)  # the agent's tab is in the background: shown (delivered) but not read
    await chat.send("Hello, my order is late")
    await chat.expect_tick("Hello, my order is late", "delivered")
    await expect(agent.unread(session_id)).to_have_text("1 unread", timeout=TIMEOUT_MS)
    await expect(agent.page).to_have_title("(1) Agent console", timeout=TIMEOUT_MS)
    await browsers.shot(customer, "delivered")
    await agent.set_hidden(False)  # looked at, in the pane the agent works in: read
    await chat.expect_tick("Hello, my order is late", "read")
    await expect(agent.unread(session_id)).to_be_hidden(timeout=TIMEOUT_MS)
    await expect(agent.page).to_have_title("Agent console", timeout=TIMEOUT_MS)

    await customer.set_hidden(True)
    await pane.send("Let me check that for you")
    await expect(customer.page).to_have_title("(1) Customer service", timeout=TIMEOUT_MS)
    await pane.expect_tick("Let me check that for you", "delivered")
    await customer.set_hidden(False)
    await pane.expect_tick("Let me check that for you", "read")
    await expect(customer.page).to_have_title("Customer service", timeout=TIMEOUT_MS)
    await chat.send("Thank you!")
    expected = ["Hello, my order is late", "Let me check that for you", "Thank you!"]
    await chat.expect_texts(expected)
    await pane.expect_texts(expected)
    await chat.expect_tick("Thank you!", "read")  # even when the agent's receipts overtake the send's ack
    for bubble in (chat.typing(), pane.typing()):  # a sent message ends its author's typing on the other side
        await expect(bubble).to_be_hidden(timeout=TIMEOUT_MS)
    await browsers.shot(customer, "widget")
    await browsers.shot(agent, "console")
    await customer.page.set_viewport_size({"width": 390, "height": 700})  # a phone: the widget fills it
    box = await customer.page.locator(".widget").bounding_box()
    assert box is not None and box["width"] == 390
    await browsers.shot(customer, "widget-phone")
    assert not customer.errors and not agent.errors, customer.errors + agent.errors


async def test_typing_shows_and_times_out(web_system: System, browsers: Browsers) -> None:
    customer, agent, session_id = await _talking(web_system, browsers)
    bubble = agent.conversation(session_id).typing()
    await customer.conversation().type_without_sending("I am writing a long question")
    await expect(bubble).to_be_visible(timeout=TIMEOUT_MS)
    await expect(bubble).to_have_text("The customer is typing…")
    # the customer stops typing but never sends or leaves the box: nothing says "stopped"; the bubble times out
    await expect(bubble).to_be_hidden(timeout=TIMEOUT_MS)


async def test_the_language_follows_the_browser_unless_overridden(web_system: System, browsers: Browsers) -> None:
    edge = web_system.edges[0]
    chinese = await browsers.browser.new_context(locale="zh-CN")
    browsers.contexts.append(chinese)
    page = await chinese.new_page()
    await page.goto(f"{edge.url}/widget/?edges={edge.url}")
    await expect(page.get_by_role("button", name="开始咨询")).to_be_visible(timeout=TIMEOUT_MS)
    assert await page.get_attribute("html", "lang") == "zh-CN"
    english = await browsers.widget(edge.url, [edge.url], lang="en", context=chinese)
    await expect(english.page.get_by_role("button", name="Start a chat")).to_be_visible(timeout=TIMEOUT_MS)
