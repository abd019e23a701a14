"""Prometheus metrics of the messaging service (served on ``/metrics`` by the shared HTTP app)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES_STORED = Counter(
    "switchboard_messaging_messages_stored_total", "Messages committed (duplicates not counted)", ["sender_role"])
DUPLICATES = Counter("switchboard_messaging_duplicates_total", "SendMessage calls answered with an existing message")
BATCH_SIZE = Histogram(
    "switchboard_messaging_batch_size", "SendMessage requests written per transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
BATCH_RETRIES = Counter(
    "switchboard_messaging_batch_retries_total", "Batch transactions run again (duplicate-key race, deadlock)")
PUBLISH_FAILURES = Counter(
    "switchboard_messaging_publish_failures_total", "JetStream publishes that failed or timed out", ["source"])
# From a message's commit to the first delivered receipt from a recipient's device: what a user waits for the
# second tick, the whole path (publish, edge, socket, the client's ack) in one figure.
DELIVERY_SECONDS = Histogram(
    "switchboard_messaging_delivery_seconds", "Message stored → first delivered receipt",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
OFFLINE_BACKLOG = Gauge(
    "switchboard_messaging_offline_backlog", "offline_messages rows not acknowledged by their recipient (as last "
    "counted by the delivery sweep)")
RETRY_QUEUE_DEPTH = Gauge(
    "switchboard_messaging_retry_queue_depth", "message_queue rows pending or in progress (as last seen)")
RETRY_PROCESSED = Counter(
    "switchboard_messaging_retry_processed_total", "message_queue rows handled by this replica", ["outcome"])
PRESENCE_FORWARDED = Counter(
    "switchboard_messaging_presence_forwarded_total", "presence events sent to a session counterpart")
REPUBLISHED = Counter(
    "switchboard_messaging_republished_total",
    "Messages published again to recipients that had not acknowledged them", ["reason"])
SWEEP_PASSES = Counter("switchboard_messaging_delivery_sweep_passes_total", "Delivery sweep passes", ["outcome"])
RETENTION_DELETED = Counter(
    "switchboard_messaging_retention_deleted_total", "Rows deleted by the retention clean-up", ["table"])
RETENTION_PASSES = Counter("switchboard_messaging_retention_passes_total", "Retention passes", ["outcome"])
