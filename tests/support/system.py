"""The system under test: a :class:`~switchboard.deployment.Deployment` with the tests' secret and settings."""

from __future__ import annotations

from pathlib import Path

from switchboard.contract import RATE_CLASSES
from switchboard.deployment import Deployment, Edge
from switchboard.runner import NatsServer

__all__ = ["JWT_SECRET", "Edge", "System"]

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256"

TEST_ENV = {
    "SWITCHBOARD_LOG_LEVEL": "INFO",
    # Tests send as fast as they can; the rate limits have their own tests with their own settings.
    **{f"SWITCHBOARD_{name.upper()}_{what}": "100000"
       for name in RATE_CLASSES for what in ("RATE_PER_SECOND", "BURST")},
    # The tests' raw socket.io users never acknowledge unless a test says so, and many tests count pushes
    # exactly: the delivery sweep's repeats come only after a minute here (tests/delivery/test_sweep.py sets
    # its own).
    "SWITCHBOARD_DELIVERY_SWEEP_AGE_SECONDS": "60",
}


class System(Deployment):
    def __init__(self, mysql_url: str, nats: NatsServer, log_dir: Path, extra_env: dict[str, str] | None = None):
        super().__init__(mysql_url, nats, log_dir, JWT_SECRET, extra_env={**TEST_ENV, **(extra_env or {})})
