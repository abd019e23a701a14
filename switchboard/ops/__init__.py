"""Operator tools: ``switchboard status``, ``sessions``, ``devices``, ``kick`` and ``send-system``.

They read what the running system exposes, with the credentials an operator is given, never the services'
own: the edges' admin ``/metrics``, the devices and messaging gRPC APIs with the ``operator`` client certificate
(authorized for the RPCs it uses through the callers file), MySQL for the backlog and the retry queue, and NATS
as the ``operator`` user, which may only read stream state (:mod:`switchboard.nats_auth`)."""
