"""Prometheus metrics of the notifications service (served on ``/metrics`` by the shared HTTP app)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PUSHES = Counter("switchboard_notifications_pushes_total", "Provider answers to pushes", ["provider", "outcome"])
LATENCY = Histogram(
    "switchboard_notifications_push_latency_seconds",
    "From the (oldest unpushed) message stored to its alert accepted by the provider", ["provider"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 900))
PENDING = Gauge("switchboard_notifications_pending", "Pushes waiting or in flight (as last seen)")
MESSAGES = Counter(
    "switchboard_notifications_messages_total", "Stored messages seen, per recipient, by what was decided",
    ["decision"])
SKIPPED = Counter("switchboard_notifications_skipped_total", "Due pushes not sent, by reason", ["reason"])
