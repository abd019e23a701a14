"""The connection service."""
