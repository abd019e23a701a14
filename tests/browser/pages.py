"""The widget and the console as a person uses them: by labels, buttons and keys, reading what is on screen.
Waits are Playwright's (polling the page until the expected state shows, or failing after its timeout)."""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.async_api import Locator, Page, expect

TIMEOUT_MS = 20_000


class ChatPage:
    path = ""

    def __init__(self, page: Page, user_id: int, edge_url: str, edges: list[str], lang: str) -> None:
        self.page, self.user_id, self.edge_url, self.edges, self.lang = page, user_id, edge_url, edges, lang
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def url(self, **extra: str) -> str:
        query = {"user": str(self.user_id), "edges": ",".join(self.edges), "lang": self.lang, **extra}
        return f"{self.edge_url}{self.path}?{urlencode(query)}"

    async def open(self) -> None:
        await self.page.goto(self.url())

    async def reload(self) -> None:
        await self.page.reload()

    async def set_hidden(self, hidden: bool) -> None:
        """The tab goes to the background (or comes back): what the page reads as visibility."""
        await self.page.evaluate("""(hidden) => {
            Object.defineProperty(document, "visibilityState", {value: hidden ? "hidden" : "visible",
                                                                configurable: true});
            document.dispatchEvent(new Event("visibilitychange"));
        }""", hidden)

    def banner(self) -> Locator:
        return self.page.locator(".banner")


class Conversation:
    """One conversation's messages, ticks and composer, inside ``scope``."""

    def __init__(self, scope: Locator | Page) -> None:
        self.scope = scope

    def messages(self) -> Locator:
        return self.scope.locator(".messages .message:not(.system)")

    def message(self, text: str) -> Locator:
        return self.scope.locator(".messages .message", has_text=text)

    def tick(self, text: str) -> Locator:
        return self.message(text).locator(".tick")

    def typing(self) -> Locator:
        return self.scope.locator(".typing")

    async def send(self, text: str) -> None:
        box = self.scope.get_by_label("Your message")
        await box.fill(text)
        await box.press("Enter")

    async def type_without_sending(self, text: str) -> None:
        await self.scope.get_by_label("Your message").press_sequentially(text)

    async def expect_texts(self, texts: list[str]) -> None:
        """Exactly these messages, in this order (nothing lost, nothing twice)."""
        await expect(self.messages().locator(".text")).to_have_text(texts, timeout=TIMEOUT_MS)

    async def expect_tick(self, text: str, status: str) -> None:
        await expect(self.tick(text)).to_have_attribute("data-status", status, timeout=TIMEOUT_MS)


class WidgetPage(ChatPage):
    path = "/widget/"

    def conversation(self) -> Conversation:
        return Conversation(self.page.locator(".chat"))

    async def start_chat(self) -> None:
        await self.page.get_by_role("button", name="Start a chat").click()
        await expect(self.page.get_by_label("Your message")).to_be_visible(timeout=TIMEOUT_MS)

    async def session_id(self) -> str:
        """The open session, as the customer's own list has it."""
        return await self.page.evaluate("""async () => {
            const client = await window.switchboard;
            const page = await client.listSessions({scope: "mine", status: "open"});
            return page.sessions[0].session_id;
        }""")

    async def expect_agent_online(self, online: bool) -> None:
        await expect(self.page.locator(".presence")).to_have_attribute("data-online", str(online).lower(),
                                                                      timeout=TIMEOUT_MS)

    async def expect_connected(self) -> None:
        await expect(self.banner()).to_be_hidden(timeout=TIMEOUT_MS)
        await self.page.wait_for_function("async () => (await window.switchboard).status === 'connected'",
                                          timeout=TIMEOUT_MS)


class ConsolePage(ChatPage):
    path = "/console/"

    def __init__(self, page: Page, user_id: int, edge_url: str, edges: list[str], lang: str, role: str) -> None:
        super().__init__(page, user_id, edge_url, edges, lang)
        self.role = role

    def url(self, **extra: str) -> str:
        return super().url(role=self.role, **extra)

    def pane(self, session_id: str) -> Locator:
        return self.page.locator(f'.pane[data-session="{session_id}"]')

    def conversation(self, session_id: str) -> Conversation:
        return Conversation(self.pane(session_id))

    def queued(self, session_id: str) -> Locator:
        return self.page.locator(f'.queue li[data-session="{session_id}"]')

    async def take(self, session_id: str) -> Conversation:
        """By keyboard: the queue's button focused, Enter."""
        await self.queued(session_id).get_by_role("button").focus()
        await self.page.keyboard.press("Enter")
        await expect(self.pane(session_id)).to_be_visible(timeout=TIMEOUT_MS)
        return self.conversation(session_id)

    def unread(self, session_id: str) -> Locator:
        return self.pane(session_id).locator(".badge")

    async def transfer(self, session_id: str, agent_id: int) -> None:
        pane = self.pane(session_id)
        await pane.get_by_label("Transfer to agent id").fill(str(agent_id))
        await pane.get_by_role("button", name="Transfer").click()

    async def close(self, session_id: str) -> None:
        await self.pane(session_id).get_by_role("button", name="Close").click()
