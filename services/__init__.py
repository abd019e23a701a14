"""Switchboard services: each one is its own process, talking to the others over gRPC and NATS."""
