"""Prometheus counters of the registry's events, served on ``/metrics`` next to the shared RPC metrics (which
already count every RPC by outcome, cap refusals included)."""

from __future__ import annotations

from prometheus_client import Counter

CONNECTIONS_REGISTERED = Counter(
    "switchboard_devices_connections_registered_total", "Connections registered", ["reconnected"]
)
NODE_RESET_CLOSED = Counter(
    "switchboard_devices_node_reset_closed_total", "Connections closed because their edge restarted"
)
STALE_CLOSED = Counter(
    "switchboard_devices_stale_connections_closed_total", "Connections closed for a missed heartbeat"
)
KICKS = Counter("switchboard_devices_kicks_total", "Devices kicked")
PRESENCE_PUBLISHED = Counter(
    "switchboard_devices_presence_events_total", "Presence transitions published", ["online", "outcome"]
)
