"""The edge's plain-HTTP face on its public port, next to socket.io: the browser pages and their assets
(:mod:`services.connection.static`) and, in development only, the token endpoint
(:mod:`services.connection.dev_token`). What is served where:

- ``/widget/``  the customer widget (web/widget)
- ``/console/`` the agent console (web/console)
- ``/shared/``  what both pages share: styles, strings, the token-provider hook (web/shared)
- ``/sdk/``     the JavaScript SDK, ``@switchboard/client`` (sdk/js: index.js and src/ only)
- ``/vendor/``  socket.io-client's browser ESM bundle (web/vendor), copied from npm by scripts/setup-browser

Everything else answers 404, as the edge did before it served pages."""

from __future__ import annotations

import logging
from pathlib import Path

from services.connection.dev_token import PATH as DEV_TOKEN_PATH
from services.connection.dev_token import DevTokens
from services.connection.settings import Settings
from services.connection.static import Mount, Receive, Scope, Send, StaticFiles, respond

log = logging.getLogger(__name__)

# The repository (or image) root: web/ and sdk/js/ lie there.
DEFAULT_ROOT = Path(__file__).resolve().parents[2]


def mounts(root: Path) -> list[Mount]:
    web = root / "web"
    return [
        Mount("/widget/", web / "widget"),
        Mount("/console/", web / "console"),
        Mount("/shared/", web / "shared"),
        Mount("/vendor/", web / "vendor"),
        Mount("/sdk/", root / "sdk" / "js", only=frozenset({"index.js", "src"})),
    ]


class WebApp:
    """Routes a plain HTTP request to the token endpoint or the static files; 404 for the rest."""

    def __init__(self, static: StaticFiles | None, dev_tokens: DevTokens | None) -> None:
        self._static, self._dev_tokens = static, dev_tokens

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # a websocket outside /socket.io/: not accepting it closes it
        path = scope["path"]
        if self._dev_tokens is not None and path == DEV_TOKEN_PATH:
            await self._dev_tokens(scope, receive, send)
        elif self._static is not None and self._static.handles(path):
            await self._static(scope, receive, send)
        else:
            await respond(send, 404, b"not found\n", head=scope["method"] == "HEAD")


def create(settings: Settings) -> WebApp | None:
    """The HTTP face these settings ask for, or None when both parts are off."""
    static = None
    if settings.web_static:
        root = Path(settings.web_root) if settings.web_root else DEFAULT_ROOT
        found = mounts(root)
        missing = [str(m.directory) for m in found if not m.directory.is_dir()]
        if missing:  # e.g. an image built without the pages: they answer 404, the edge still serves socket.io
            log.warning("static pages missing; those paths answer 404", extra={"missing": missing})
        static = StaticFiles(found)
    dev_tokens = None
    if settings.dev_token_endpoint:
        dev_tokens = DevTokens(settings.jwt_secret, settings.dev_token_ttl_seconds)
    return None if static is None and dev_tokens is None else WebApp(static, dev_tokens)
