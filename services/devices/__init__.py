"""The devices service."""
