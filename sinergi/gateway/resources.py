"""What the gateway's handlers share, stored on the application under typed keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from aiohttp import web
from temporalio.converter import PayloadCodec
from temporalio.service import RPCError

from sinergi.cases import Cases, ServiceUnavailable
from sinergi.config import GatewaySettings
from sinergi.gateway.auth import Verifiers

log = structlog.get_logger("sinergi.gateway")


class TemporalLink:
    """The gateway's way to the cases.

    Built from a connect function, it connects in the background (`keep_connecting`), so the gateway
    starts — and answers 503 — while Temporal is still down; built with `TemporalLink.to(cases)` it is
    connected from the start.
    """

    def __init__(self, connect: Callable[[], Awaitable[Cases]], retry_seconds: float = 1.0,
                 max_retry_seconds: float = 10.0) -> None:
        self._connect = connect
        self._retry_seconds = retry_seconds
        self._max_retry_seconds = max_retry_seconds
        self._cases: Cases | None = None

    @classmethod
    def to(cls, cases: Cases) -> TemporalLink:
        async def connected() -> Cases:
            return cases

        link = cls(connected)
        link._cases = cases
        return link

    @property
    def cases(self) -> Cases:
        """The connected cases; `ServiceUnavailable` until the first connection succeeded."""
        if self._cases is None:
            raise ServiceUnavailable("not connected to Temporal yet")
        return self._cases

    async def keep_connecting(self) -> None:
        """Try to connect until it works (the SDK's client reconnects on its own afterwards)."""
        wait = self._retry_seconds
        while self._cases is None:
            try:
                self._cases = await self._connect()
            except RuntimeError as exc:  # the SDK's "Failed client connect"
                log.warning("temporal_unreachable", error=str(exc), retry_in_s=wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, self._max_retry_seconds)
            except Exception as exc:  # noqa: BLE001 - e.g. an unreadable TLS file: retrying cannot help
                log.error("temporal_connect_failed", error=str(exc), effect="events get 503 until restarted")
                return
        log.info("temporal_connected")

    async def reachable(self, timeout: float = 2.0) -> bool:
        if self._cases is None:
            return False
        try:
            return await self._cases.client.service_client.check_health(timeout=timedelta(seconds=timeout))
        except (RPCError, RuntimeError):
            return False


class CaseLanes:
    """At most `width` requests at a time per case; the rest wait their turn in arrival order."""

    def __init__(self, width: int) -> None:
        self._width = width
        self._lanes: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, case_id: str) -> AsyncIterator[None]:
        semaphore, users = self._lanes.get(case_id) or (asyncio.Semaphore(self._width), 0)
        self._lanes[case_id] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._lanes[case_id]
            if users == 1:
                del self._lanes[case_id]  # no one waits: forget the case, so the table stays small
            else:
                self._lanes[case_id] = (semaphore, users - 1)


@dataclass(frozen=True)
class Resources:
    """Opened once per process (see `sinergi.gateway.serve.open_resources`); tests build their own."""

    verifiers: Verifiers
    temporal: TemporalLink
    codec: PayloadCodec
    codec_token: str | None
    namespace: str


SETTINGS = web.AppKey("settings", GatewaySettings)
RESOURCES = web.AppKey("resources", Resources)
OPENAPI = web.AppKey("openapi", dict[str, Any])
LANES = web.AppKey("lanes", CaseLanes)
