"""The Grafana dashboard and the Prometheus scrape config fit what the services expose: every metric a panel
queries is served on some service's /metrics (scraped from a running deployment), the scrape targets are the
compose services on their admin/HTTP ports, and the delivery-latency histogram and the backlog gauge move with
real traffic."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from services.connection.settings import Settings as EdgeSettings
from services.devices.settings import Settings as DevicesSettings
from services.messaging.settings import Settings as MessagingSettings
from tests.support.system import System
from tests.support.users import SocketUser, open_conversation

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
DASHBOARD = OBSERVABILITY / "grafana" / "dashboards" / "switchboard.json"
_users = itertools.count(4_300_000_000)
# The series a family of each type is exposed as, whether or not it has been observed yet.
SERIES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"),
          "gauge": ("",), "summary": ("_count", "_sum", "_created")}


def dashboard_metrics() -> set[str]:
    exprs = [t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"] for t in p["targets"]]
    return {name for expr in exprs for name in re.findall(r"\b(switchboard_[a-z0-9_]+)", expr)}


async def scrape(url: str) -> tuple[set[str], dict[str, float]]:
    """The series names ``url`` exposes (observed or not) and the value of each unlabelled sample."""
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as resp:
        text = await resp.text()
    names, values = set(), {}
    for family in text_string_to_metric_families(text):
        names.update(family.name + suffix for suffix in SERIES.get(family.type, ("",)))
        for sample in family.samples:
            names.add(sample.name)
            if not sample.labels:
                values[sample.name] = sample.value
    return names, values


def _urls(system: System) -> dict[str, str]:
    return {**{e.node_id: e.admin_url for e in system.edges},
            **{name: f"http://127.0.0.1:{p.http_port}" for name, p in system.services.items()}}


async def test_every_metric_the_dashboard_queries_is_exposed(make_system: Callable[..., Awaitable[System]]) -> None:
    system = await make_system(edges=1)
    exposed: set[str] = set()
    for url in _urls(system).values():
        exposed |= (await scrape(url))[0]
    wanted = dashboard_metrics()
    assert len(wanted) >= 10  # sockets, messages, delivery, backlog, retry queue, gRPC, events, errors
    assert not wanted - exposed, f"the dashboard queries metrics no service exposes: {sorted(wanted - exposed)}"


async def test_delivery_latency_and_backlog_follow_the_traffic(make_system: Callable[..., Awaitable[System]]) -> None:
    system = await make_system(edges=1, env={"SWITCHBOARD_DELIVERY_SWEEP_INTERVAL_SECONDS": "0.2"})
    messaging = _urls(system)["messaging"]
    edge = system.edges[0].url
    cid, aid = next(_users), next(_users)
    customer = await SocketUser(edge, cid, system.token(cid)).join()
    agent = await SocketUser(edge, aid, system.token(aid, "agent")).join()
    try:
        session_id = await open_conversation(customer, agent)
        before = (await scrape(messaging))[1].get("switchboard_messaging_delivery_seconds_count", 0.0)
        assert (await agent.call("send_message", {"session_id": session_id, "message": "hello"}))["success"]
        message = await customer.wait_for("new_message")
        assert (await customer.call("message_delivered", {"message_ids": [message["id"]]}))["success"]
        await agent.wait_for("message_status")  # the receipt was committed
        after = (await scrape(messaging))[1]
        assert after["switchboard_messaging_delivery_seconds_count"] == before + 1
        assert after["switchboard_messaging_delivery_seconds_sum"] > 0
        await customer.close()
        backlog = after["switchboard_messaging_offline_backlog"]
        for i in range(3):  # the customer is away: three rows wait for it
            assert (await agent.call("send_message", {"session_id": session_id, "message": f"away {i}"}))["success"]
        for _ in range(50):
            if (await scrape(messaging))[1]["switchboard_messaging_offline_backlog"] >= backlog + 3:
                break
            await asyncio.sleep(0.1)
        assert (await scrape(messaging))[1]["switchboard_messaging_offline_backlog"] >= backlog + 3
    finally:
        await customer.close()
        await agent.close()


def test_prometheus_scrapes_the_compose_services_on_their_ports() -> None:
    config = (OBSERVABILITY / "prometheus.yml").read_text()
    targets = set(re.findall(r'"([a-z0-9-]+):(\d+)"', config))
    compose = (ROOT / "docker-compose.yml").read_text()
    services = set(re.findall(r"^  ([a-z0-9-]+):", compose, re.MULTILINE))
    edges = {name for name in services if name.startswith("edge-")}
    assert targets == {*((e, str(EdgeSettings.edge_admin_port)) for e in edges),
                       ("messaging", str(MessagingSettings.messaging_http_port)),
                       ("devices", str(DevicesSettings.devices_http_port))}
    # the compose edges serve their admin port on the network Prometheus scrapes from
    assert "SWITCHBOARD_EDGE_ADMIN_HOST: 0.0.0.0" in compose
    assert {"prometheus", "grafana"} <= services
