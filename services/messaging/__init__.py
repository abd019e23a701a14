"""The messaging service: sessions, messages, receipts and offline delivery (gRPC ``MessagingService``).

Modules: ``grpc_service`` (validation, proto mapping) → ``writer`` (batched SendMessage transactions: dedup,
gap-free per-session sequences, offline rows) → ``publisher`` (JetStream ``new_message`` after commit, core-NATS
status/session events) → ``retry_queue`` (re-publishes what failed). ``receipts`` and ``sessions`` hold the
rules of their RPCs, ``store`` all SQL, ``mapping`` rows → protos.

Guarantees: a message acknowledged to its sender is committed with the next sequence number of its session
(no gap, no duplicate, whatever the number of replicas) and has an undelivered ``offline_messages`` row per
recipient until a device of the recipient acknowledges it; the same ``(sender, client_msg_id)`` never stores
a second message; a failed live publish is retried from ``message_queue``, never dropped.
"""
