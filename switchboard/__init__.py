"""Shared plumbing for the Switchboard services: settings, errors, auth, logging, MySQL, NATS, gRPC and HTTP.

Services import from here and from the generated stubs in ``protos``; never from each other.
"""
