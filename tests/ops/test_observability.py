"""The Grafana dashboard and the Prometheus scrape config fit what the services expose: a panel for every signal issue
#15 names and the notifications service's pushes, every metric a panel queries is served on some service's /metrics
(scraped from a running deployment), the scrape targets are every service of each compose layout (single host and
cluster) on its admin/HTTP port, each layout's observability profile mounts files that exist, and the delivery-
latency histogram and the backlog gauge move with real traffic."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.connection.settings import Settings as EdgeSettings
from services.devices.settings import Settings as DevicesSettings
from services.messaging.settings import Settings as MessagingSettings
from services.notifications.settings import Settings as NotificationsSettings
from tests.support.polling import eventually
from tests.support.system import System
from tests.support.users import SocketUser, new_user_id, open_conversation

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
DASHBOARD = OBSERVABILITY / "grafana" / "dashboards" / "switchboard.json"
# The series a family of each type is exposed as, whether or not it has been observed yet.
SERIES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created"),
          "gauge": ("",), "summary": ("_count", "_sum", "_created")}


# Each signal the dashboard must show, by the metric a panel of it queries (issue #15's list, then the pushes).
SIGNALS = {
    "sockets": "switchboard_edge_sockets",
    "messages per second": "switchboard_messaging_messages_stored_total",
    "delivery latency, send to delivered receipt": "switchboard_messaging_delivery_seconds_bucket",
    "offline backlog": "switchboard_messaging_offline_backlog",
    "retry queue": "switchboard_messaging_retry_queue_depth",
    "gRPC latency": "switchboard_grpc_server_handling_seconds_bucket",
    "errors": "switchboard_grpc_server_handled_total",
    "pushes by provider and outcome": "switchboard_notifications_pushes_total",
    "push latency": "switchboard_notifications_push_latency_seconds_bucket",
}


def panels() -> dict[str, set[str]]:
    """Each panel's title and the metrics its queries read."""
    return {p["title"]: {name for t in p["targets"] for name in re.findall(r"\b(switchboard_[a-z0-9_]+)", t["expr"])}
            for p in json.loads(DASHBOARD.read_text())["panels"]}


def dashboard_metrics() -> set[str]:
    return set().union(*panels().values())


def test_the_dashboard_has_a_panel_for_every_signal() -> None:
    shown = panels()
    missing = [signal for signal, metric in SIGNALS.items() if not any(metric in m for m in shown.values())]
    assert not missing, f"no panel shows: {missing}"
    errors = next(t for t, m in shown.items() if SIGNALS["errors"] in m)
    assert "error" in errors.lower()  # the failed calls have a panel of their own, not only a latency line


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
    await system.start_service("notifications")  # not part of every test deployment; its pushes are on the board
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
    cid, aid = new_user_id(), new_user_id()
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
        for i in range(3):  # the customer is away: three rows wait for it
            assert (await agent.call("send_message", {"session_id": session_id, "message": f"away {i}"}))["success"]

        async def gauge_counts_the_table() -> tuple[bool, int]:
            """Whether the gauge equals the table's undelivered rows, and how many of those are the customer's."""
            gauge = (await scrape(messaging))[1]["switchboard_messaging_offline_backlog"]
            [(total, mine)] = await system.query(
                "SELECT COUNT(*), COALESCE(SUM(user_id = %s), 0) FROM offline_messages WHERE delivered = FALSE", cid)
            return gauge == total, int(mine)

        # the gauge follows the table (the sweep recounts it), three rows waiting for the customer among them
        await eventually(gauge_counts_the_table, (True, 3))
    finally:
        await customer.close()
        await agent.close()


# Each compose layout and the Prometheus configuration its observability profile mounts.
LAYOUTS = {"single host": (ROOT / "docker-compose.yml", OBSERVABILITY / "prometheus.yml"),
           "cluster": (ROOT / "deploy" / "cluster" / "compose.yaml", ROOT / "deploy" / "cluster" / "prometheus.yml")}
PORTS = {"edge": EdgeSettings.edge_admin_port, "messaging": MessagingSettings.messaging_http_port,
         "devices": DevicesSettings.devices_http_port, "notifications": NotificationsSettings.notifications_http_port}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_prometheus_scrapes_every_service_of_the_layout_on_its_port(layout: str) -> None:
    """Every edge, devices, messaging and notifications service (``devices`` or a replica ``devices-2``), each on
    its admin/HTTP port, and nothing else."""
    compose_path, prometheus = LAYOUTS[layout]
    compose = compose_path.read_text()
    targets = set(re.findall(r'"([a-z0-9-]+):(\d+)"', prometheus.read_text()))
    services = set(re.findall(r"^  ([a-z0-9-]+):", compose, re.MULTILINE))
    kinds = {name: found.group(1) for name in services
             if (found := re.fullmatch(rf"({'|'.join(PORTS)})(?:-\d+)?", name))}
    assert set(kinds.values()) == set(PORTS), f"{layout}: a kind of service is missing: {kinds}"
    assert targets == {(name, str(PORTS[kind])) for name, kind in kinds.items()}
    # the edges serve their admin port on the network Prometheus scrapes from
    assert "SWITCHBOARD_EDGE_ADMIN_HOST: 0.0.0.0" in compose
    assert {"prometheus", "grafana"} <= services


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_observability_profile_mounts_only_files_that_exist(layout: str) -> None:
    """compose would mount a missing path as an empty directory: Prometheus without its config, Grafana without
    its dashboard, and no error. Both layouts show the one dashboard."""
    compose_path, prometheus = LAYOUTS[layout]
    compose = compose_path.read_text()
    profiled = re.findall(r"^  ([a-z0-9-]+):\n(?:    .*\n|\n)*?    profiles: \[\"observability\"\]", compose,
                          re.MULTILINE)
    assert set(profiled) == {"prometheus", "grafana"}, profiled
    mounted = {(compose_path.parent / m).resolve()
               for m in re.findall(r"^      - (\.\.?/[^:]*(?:observability|prometheus\.yml)[^:]*):", compose,
                                   re.MULTILINE)}
    grafana = OBSERVABILITY / "grafana"
    assert mounted == {prometheus, grafana / "provisioning", grafana / "dashboards"}, mounted
    assert all(m.exists() for m in mounted), [m for m in mounted if not m.exists()]
    provisioned = grafana / "provisioning"
    assert "path: /var/lib/grafana/dashboards" in (provisioned / "dashboards" / "switchboard.yml").read_text()
    assert DASHBOARD.parent.name == "dashboards" and DASHBOARD.exists()
