"""Headless Chromium (Debian's /usr/bin/chromium, installed by scripts/setup-browser; Playwright never downloads
a browser here) against a real deployment of two edges that serve the pages, allow each other's origin and
run the development token endpoint. Screenshots land in ``browser-artifacts*/`` under pytest's temporary
directory (``--basetemp`` chooses it), named after the test."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from switchboard.runner import NatsServer, free_port
from tests.browser.pages import ConsolePage, WidgetPage
from tests.support.system import System
from tests.support.users import new_user_id

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run scripts/setup-browser")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-artifacts")


async def start_web_system(mysql_url: str, nats: NatsServer, log_dir: Path) -> System:
    """Two edges on ports chosen first, so each can list both origins: a page served by one edge reconnects to
    the other when its own goes away."""
    ports = [free_port(), free_port()]
    origins = ",".join(f"http://127.0.0.1:{port}" for port in ports)
    system = System(mysql_url, nats, log_dir, extra_env={
        "SWITCHBOARD_CORS_ALLOWED_ORIGINS": origins, "SWITCHBOARD_DEV_TOKEN_ENDPOINT": "true"})
    await system.start(edges=0)
    for port in ports:
        await system.add_edge(port=port)
    return system


@pytest.fixture(scope="session")
async def web_system(mysql_url: str, nats_server: NatsServer, run_dir: Path) -> AsyncIterator[System]:
    """The shared deployment of the browser tests; a test that kills an edge starts its own."""
    system = await start_web_system(mysql_url, nats_server, run_dir)
    yield system
    await system.stop()


class Browsers:
    """New pages, each in a context of its own (its own storage, like another person's browser), closed after
    the test; ``shot`` keeps a screenshot in the artifacts folder."""

    def __init__(self, browser: Browser, artifacts: Path, test_name: str) -> None:
        self.browser, self.artifacts, self.test_name = browser, artifacts, test_name
        self.contexts: list[BrowserContext] = []

    async def context(self) -> BrowserContext:
        context = await self.browser.new_context(viewport={"width": 1100, "height": 800})
        self.contexts.append(context)
        return context

    async def widget(self, edge_url: str, edges: list[str], user_id: int | None = None,
                     context: BrowserContext | None = None, lang: str = "en") -> WidgetPage:
        page = await (context or await self.context()).new_page()
        widget = WidgetPage(page, user_id or new_user_id(), edge_url, edges, lang)
        await widget.open()
        return widget

    async def console(self, edge_url: str, edges: list[str], user_id: int | None = None, role: str = "agent",
                      lang: str = "en") -> ConsolePage:
        page = await (await self.context()).new_page()
        console = ConsolePage(page, user_id or new_user_id(), edge_url, edges, lang, role)
        await console.open()
        return console

    async def shot(self, page: WidgetPage | ConsolePage, name: str) -> Path:
        path = self.artifacts / f"{self.test_name}-{name}.png"
        await page.page.screenshot(path=str(path), full_page=True)
        return path

    async def close(self) -> None:
        while self.contexts:
            await self.contexts.pop().close()


@pytest.fixture
async def browsers(browser: Browser, artifacts: Path, request: pytest.FixtureRequest) -> AsyncIterator[Browsers]:
    opened = Browsers(browser, artifacts, request.node.name)
    yield opened
    await opened.close()
