"""What the operator tools read from, each opened on first use with the operator's own credentials and closed
together: the gRPC APIs (client certificate ``operator``), MySQL, NATS (user ``operator``) and the edges'
admin endpoints."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import aiohttp
from nats.aio.client import Client
from prometheus_client.parser import text_string_to_metric_families

from protos import devices_pb2_grpc, messaging_pb2_grpc
from switchboard import nats as sb_nats
from switchboard.db import query_once
from switchboard.grpc import Transport, channel, stub
from switchboard.ops.settings import Settings


@dataclasses.dataclass(frozen=True)
class EdgeState:
    url: str
    ready: bool
    metrics: dict[str, float]  # sample name → value, labels summed


class Sources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._channels: list[Any] = []
        self._nats: Client | None = None
        self._http: aiohttp.ClientSession | None = None

    # ---- gRPC ----------------------------------------------------------------------------------------------
    def _channel(self, target: str) -> Any:
        ch = channel(target, Transport.from_settings(self.settings))
        self._channels.append(ch)
        return ch

    def devices(self) -> devices_pb2_grpc.DeviceServiceStub:
        return stub(devices_pb2_grpc.DeviceServiceStub, self._channel(self.settings.devices_grpc_target),
                    timeout=self.settings.ops_timeout_seconds)

    def messaging(self) -> messaging_pb2_grpc.MessagingServiceStub:
        return stub(messaging_pb2_grpc.MessagingServiceStub, self._channel(self.settings.messaging_grpc_target),
                    timeout=self.settings.ops_timeout_seconds)

    # ---- MySQL ---------------------------------------------------------------------------------------------
    async def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """One read on its own connection: the tools run a handful of statements, a pool would idle."""
        async with asyncio.timeout(self.settings.ops_timeout_seconds):
            return await query_once(self.settings.mysql_url, sql, *args)

    # ---- NATS ----------------------------------------------------------------------------------------------
    async def stream_info(self, stream: str) -> Any:
        """JetStream's ``STREAM.INFO`` for ``stream`` (the one API call the ``operator`` NATS user may make)."""
        async with asyncio.timeout(self.settings.ops_timeout_seconds):
            if self._nats is None:
                self._nats = await sb_nats.connect(self.settings, name="switchboard-ops")
            return await self._nats.jetstream().stream_info(stream)

    # ---- edges ---------------------------------------------------------------------------------------------
    async def edge(self, url: str) -> EdgeState:
        """An edge's /ready and /metrics on its admin port."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.settings.ops_timeout_seconds))
        async with self._http.get(f"{url}/ready") as ready:
            is_ready = ready.status == 200
        async with self._http.get(f"{url}/metrics") as resp:
            resp.raise_for_status()
            text = await resp.text()
        metrics: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                metrics[sample.name] = metrics.get(sample.name, 0.0) + sample.value
        return EdgeState(url, is_ready, metrics)

    async def close(self) -> None:
        for ch in self._channels:
            await ch.close()
        if self._nats is not None:
            await self._nats.close()
        if self._http is not None:
            await self._http.close()
