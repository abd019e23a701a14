"""Settings of the messaging service (``SWITCHBOARD_*`` environment variables)."""

from __future__ import annotations

import dataclasses

from switchboard.settings import CommonSettings, load


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(CommonSettings):
    messaging_http_port: int = 8101
    messaging_grpc_port: int = 50051
    # Server-authenticated TLS for outside backends that send a bearer token instead of a client certificate
    # (0: none).
    messaging_grpc_token_port: int = 0
    # JetStream keeps each user's messages this long (the stream's max_age) and at most this many per user.
    offline_retention_seconds: int = 7 * 24 * 3600
    inbox_max_per_user: int = 10000
    # Copies of the inbox stream JetStream keeps, on as many servers (1, 3 or 5; a cluster's size at most): 3 on a
    # three-server cluster survives one server's loss. Declared, not read from the cluster: a server down while
    # a replica starts must not shrink the stream for good, and a count the cluster cannot hold fails the start.
    nats_replicas: int = 1
    fetch_max_limit: int = 500
    # Batch writer: concurrent tasks (each holds one DB connection while a batch is in flight) and rows per batch.
    writers: int = 1
    batch_max: int = 256
    # Retry queue: attempts per row, backoff base (doubled per attempt), poll interval of the worker.
    retry_max: int = 5
    retry_base_seconds: float = 1.0
    retry_poll_seconds: float = 0.5
    publish_timeout_seconds: float = 2.0
    # Delivery sweep (services/messaging/sweep.py): how often, how old an unacknowledged row must be before it
    # is pushed again, how far back to look, and how many rows one pass reads.
    delivery_sweep_interval_seconds: float = 2.0
    delivery_sweep_age_seconds: float = 3.0
    delivery_sweep_horizon_seconds: float = 3600.0
    delivery_sweep_batch: int = 1000
    # Retention (services/messaging/retention.py): ages after which rows are deleted (0: kept forever) —
    # acknowledged offline_messages rows, completed/failed message_queue rows, and chat history of closed
    # sessions — how often a pass runs, primary keys read per window and the pause between windows.
    delivered_retention_seconds: int = 7 * 24 * 3600
    retry_queue_retention_seconds: int = 7 * 24 * 3600
    history_retention_seconds: int = 0
    retention_interval_seconds: float = 600.0
    retention_batch: int = 500
    retention_pause_seconds: float = 0.1


def load_settings() -> Settings:
    return load(Settings)
