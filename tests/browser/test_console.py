"""The agent console: the waiting queue, several sessions taken and shown side by side with their own unread
counts, a transfer to another agent (the session leaves this console and appears in the other, the customer is
told), a transfer to a customer refused, and a close (the customer's widget stops taking messages)."""

from __future__ import annotations

from playwright.async_api import expect

from tests.browser.conftest import Browsers
from tests.browser.pages import TIMEOUT_MS
from tests.support.system import System


async def test_an_agent_takes_two_sessions_transfers_one_and_closes_the_other(web_system: System,
                                                                             browsers: Browsers) -> None:
    first, second = web_system.edges
    edges = [first.url, second.url]
    alice, bob = await browsers.widget(first.url, edges), await browsers.widget(second.url, edges[::-1])
    agent = await browsers.console(first.url, edges)
    colleague = await browsers.console(second.url, edges[::-1])
    for customer in (alice, bob):
        await customer.start_chat()
    alice_session, bob_session = await alice.session_id(), await bob.session_id()
    for session_id in (alice_session, bob_session):
        await expect(agent.queued(session_id)).to_be_visible(timeout=TIMEOUT_MS)

    to_alice, to_bob = await agent.take(alice_session), await agent.take(bob_session)
    await expect(agent.page.locator(".pane")).to_have_count(2)
    await expect(colleague.queued(alice_session)).to_be_hidden(timeout=TIMEOUT_MS)  # taken: out of every queue
    await alice.conversation().send("Alice here")
    await bob.conversation().send("Bob here")
    await to_alice.expect_texts(["Alice here"])
    await to_bob.expect_texts(["Bob here"])
    # the agent works in Bob's pane (it took Bob last): Alice's message waits there, unread
    await expect(agent.unread(alice_session)).to_have_text("1 unread", timeout=TIMEOUT_MS)
    await expect(agent.unread(bob_session)).to_be_hidden()
    await browsers.shot(agent, "two-sessions")
    await agent.page.set_viewport_size({"width": 390, "height": 800})  # a phone: the queue above the sessions
    queue, sessions = agent.page.locator(".queue"), agent.page.locator(".sessions")
    queue_box, sessions_box = await queue.bounding_box(), await sessions.bounding_box()
    assert queue_box and sessions_box and queue_box["y"] + queue_box["height"] <= sessions_box["y"]
    await agent.page.set_viewport_size({"width": 1100, "height": 800})

    refused = agent.pane(alice_session).locator(".error")
    await agent.transfer(alice_session, bob.user_id)  # a customer is no agent
    await expect(refused).to_contain_text("is not an agent", timeout=TIMEOUT_MS)
    await agent.transfer(alice_session, colleague.user_id)
    await expect(agent.pane(alice_session)).to_be_hidden(timeout=TIMEOUT_MS)
    moved = colleague.conversation(alice_session)
    await moved.expect_texts(["Alice here"])
    await expect(alice.conversation().message("You are now talking to another agent")).to_be_visible(
        timeout=TIMEOUT_MS)
    await moved.send("Your colleague's colleague here")
    await alice.conversation().expect_texts(["Alice here", "Your colleague's colleague here"])

    await agent.close(bob_session)
    await expect(bob.conversation().message("This chat is closed")).to_be_visible(timeout=TIMEOUT_MS)
    await expect(bob.page.get_by_label("Your message")).to_be_disabled()
    await expect(bob.page.get_by_role("button", name="Start a new chat")).to_be_visible()
    await expect(agent.pane(bob_session).get_by_role("button", name="Dismiss")).to_be_visible()
    await browsers.shot(agent, "closed")
    await agent.pane(bob_session).get_by_role("button", name="Dismiss").click()
    await expect(agent.page.locator(".pane")).to_have_count(0)
    assert not (agent.errors or colleague.errors or alice.errors or bob.errors)


async def test_the_queue_is_pushed_and_a_reconnect_lists_what_was_missed(web_system: System,
                                                                         browsers: Browsers) -> None:
    """Nothing polls: while connected, the console lists the queue once and then shows what the server pushes;
    what happened while it was offline comes with the list it makes when it is back."""
    first, second = web_system.edges
    edges = [first.url, second.url]
    early = await browsers.widget(first.url, edges)
    await early.start_chat()
    agent = await browsers.console(second.url, edges[::-1])
    await expect(agent.queued(await early.session_id())).to_be_visible(timeout=TIMEOUT_MS)  # listed at connect
    alice = await browsers.widget(first.url, edges)
    await alice.start_chat()
    alice_session = await alice.session_id()
    await expect(agent.queued(alice_session)).to_be_visible(timeout=TIMEOUT_MS)  # pushed: it lists only at connect

    await agent.page.evaluate("async () => (await window.switchboard).disconnect()")
    bob = await browsers.widget(first.url, edges)
    await bob.start_chat()
    bob_session = await bob.session_id()
    colleague = await browsers.console(first.url, edges)
    await colleague.take(alice_session)
    await expect(colleague.queued(bob_session)).to_be_visible(timeout=TIMEOUT_MS)
    # offline, the console heard neither; back online, its list has both changes
    await expect(agent.queued(alice_session)).to_be_visible()
    await expect(agent.queued(bob_session)).to_have_count(0)
    await agent.page.evaluate("async () => { await (await window.switchboard).connect(); }")
    await expect(agent.queued(bob_session)).to_be_visible(timeout=TIMEOUT_MS)
    await expect(agent.queued(alice_session)).to_have_count(0, timeout=TIMEOUT_MS)
    assert not (agent.errors or colleague.errors or alice.errors or bob.errors or early.errors)
