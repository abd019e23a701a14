"""What every scenario gets: the options of the run, a log folder, and the system (started once, on demand).

Sharing one deployment across the scenarios of ``all`` keeps ``--quick`` under a minute; a scenario that needs
a node measured from zero (``sockets``) adds a fresh edge to it instead of restarting everything.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.launcher import NOTIFICATIONS_OFF, BenchSystem
from services.connection.settings import Settings as EdgeSettings
from switchboard.ws_compression import MODES


@dataclasses.dataclass
class Options:
    quick: bool = False
    workers: int = 2
    pairs: int = 50
    rates: list[int] = dataclasses.field(default_factory=list)
    step_s: float = 5.0
    drain_s: float = 3.0
    socket_levels: list[int] = dataclasses.field(default_factory=list)
    heartbeat_interval_s: float = 30.0
    heartbeat_window_s: float = 10.0
    backlog: int = 10_000
    fanout_rounds: int = 200
    relay_modes: list[str] = dataclasses.field(default_factory=lambda: ["sanic", "asgi"])
    edges: int = 2
    profile_seconds: float = 0.0  # > 0: one extra throughput step under py-spy (edge, messaging, devices)
    deflate: bool = False  # every bench socket offers permessage-deflate, as browsers do
    wire_messages: int = 1000  # compression: messages per size and server setting
    # sockets: the edge's SWITCHBOARD_WS_COMPRESSION settings measured with and without deflate offered
    compression_modes: list[str] = dataclasses.field(default_factory=lambda: list(MODES))
    notifications: str = NOTIFICATIONS_OFF  # the shared system's notifications service (launcher.NOTIFICATIONS)
    repeats: int = 2  # notifications: ladders per variant, interleaved

    @classmethod
    def for_run(cls, quick: bool, **overrides: object) -> Options:
        """Defaults of a full run or of ``--quick`` (small counts: it proves the path, it does not measure)."""
        if quick:
            base = cls(quick=True, workers=2, pairs=10, rates=[100, 200], step_s=1.5, drain_s=2.0,
                       socket_levels=[50, 100], heartbeat_interval_s=2.0, heartbeat_window_s=2.0, backlog=300,
                       fanout_rounds=10, relay_modes=["asgi"], wire_messages=40,
                       compression_modes=[EdgeSettings.ws_compression], repeats=1)
        else:
            base = cls(step_s=10.0, rates=[100, 200, 300, 400, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000,
                                               3500, 4000, 5000, 6000, 7000, 8000],
                       socket_levels=[1000, 5000, 10_000], heartbeat_window_s=30.0)
        for key, value in overrides.items():
            if value is not None:
                setattr(base, key, value)
        return base


class Context:
    def __init__(self, options: Options, log_dir: Path) -> None:
        self.options, self.log_dir = options, log_dir
        self._system: BenchSystem | None = None

    async def system(self) -> BenchSystem:
        if self._system is None:
            candidate = BenchSystem(self.log_dir, edges=self.options.edges,
                                    notifications=self.options.notifications)
            await candidate.__aenter__()
            self._system = candidate
        return self._system

    async def close(self) -> None:
        if self._system is not None:
            await self._system.stop()
            self._system = None
