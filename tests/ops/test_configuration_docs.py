"""docs/configuration.md is what the settings objects render, every ``SWITCHBOARD_*`` variable the README
names is one the code reads, and the README's compose instructions make every secret the compose files require."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from switchboard import config_docs
from switchboard.config_docs import SAME_GROUP, describe, env_names, render

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
COMPOSE_FILES = (ROOT / "docker-compose.yml", ROOT / "deploy" / "cluster" / "compose.yaml")


def compose_secrets() -> set[str]:
    """What the compose files refuse to start without (``${NAME:?…}``): the NATS servers' passwords among them."""
    return {name for path in COMPOSE_FILES for name in re.findall(r"\$\{(SWITCHBOARD_\w+):\?", path.read_text())}


# Variables the README names that are not settings of a service, each read by what the README says reads it.
NOT_SETTINGS = {
    *compose_secrets(),  # compose hands the NATS passwords to nats-server (deploy/nats.conf, deploy/cluster)
    "SWITCHBOARD_URL",  # the SDK examples' server address (examples/)
    "SWITCHBOARD_FAULTS", "SWITCHBOARD_FAULTS_TABLE",  # the fault suite's size and table path (tests/faults)
    "SWITCHBOARD_CLUSTER",  # the cluster kill test's length (tests/cluster)
}


def test_docs_configuration_md_is_generated_from_the_settings() -> None:
    assert config_docs.DOC_PATH.read_text(encoding="utf-8") == render(), "run: python -m switchboard.settings docs"


def test_every_setting_the_readme_names_exists() -> None:
    named = set(re.findall(r"SWITCHBOARD_[A-Z0-9_]*[A-Z0-9]", README.read_text(encoding="utf-8")))
    unknown = sorted(named - env_names() - NOT_SETTINGS)
    assert not unknown, f"the README names settings no settings object has: {unknown}"


def test_every_service_and_the_operator_tools_are_documented() -> None:
    sections = config_docs.all_settings()
    assert {"every service", "connection", "messaging", "devices"} <= sections.keys()
    edge = {s.env: s for s in sections["connection"]}
    assert edge["SWITCHBOARD_WS_COMPRESSION"].default == "'no_context_takeover'"
    assert "off | no_context_takeover | context_takeover" in edge["SWITCHBOARD_WS_COMPRESSION"].doc
    # the common settings are listed once, not again under each service
    assert "SWITCHBOARD_MYSQL_URL" not in edge
    ops = next(v for k, v in sections.items() if k.startswith("operator tools"))
    assert [s.env for s in ops] == ["SWITCHBOARD_EDGE_ADMIN_URLS", "SWITCHBOARD_OPS_TIMEOUT_SECONDS"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Example:
    # Opens a group: both fields below.
    first: int = 7 * 24
    second: str = "x"

    alone: float = 1.5  # its own note
    bare: bool = False


def test_comments_become_docs_by_group_and_line() -> None:
    rows = {s.name: s for s in describe(Example)}
    assert rows["first"].doc == "Opens a group: both fields below."
    assert rows["first"].default == "168 (7 * 24)"
    assert rows["second"].doc == SAME_GROUP and rows["second"].default == "'x'"
    assert rows["alone"].doc == "its own note" and rows["alone"].type == "float"
    assert rows["bare"].doc == "" and rows["bare"].env == "SWITCHBOARD_BARE"


def test_the_readme_makes_every_secret_the_compose_files_require() -> None:
    """Its ``.env`` loop: a name missing there stops ``docker compose up`` at its first line."""
    loop = re.search(r"^for name in (.*?); do$", README.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)
    assert loop is not None, "the README's .env loop is gone"
    made = set(loop.group(1).replace("\\", " ").split())
    required = compose_secrets()
    assert "SWITCHBOARD_NATS_ROUTE_PASSWORD" in required and "SWITCHBOARD_JWT_SECRET" in required
    assert made == required, f"missing: {sorted(required - made)}, not required: {sorted(made - required)}"
