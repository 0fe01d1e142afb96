"""`Sandbox`: the simulated agency systems as one object — HTTP server on loopback, ledger, storylines.

Tests and benchmarks start one in-process (port 0) and steer it (`outage`, `restore`, `reject`);
`sinergi sandbox` and `sinergi dev` run it with `serve` until told to stop.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from pathlib import Path
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from sinergi import bootstrap
from sinergi.domain.agencies import AgencyRegistry, Office
from sinergi.platform.config import Settings
from sinergi.platform.secrets import DEV_SECRETS, ensure_dev_secrets
from sinergi.sandbox.ledger import AgencyLedger, Kind
from sinergi.sandbox.memory import Memory
from sinergi.sandbox.options import ALL_OFFICES, SandboxOptions, Window
from sinergi.sandbox.player import Player
from sinergi.sandbox.server import build_app

log = structlog.get_logger(__name__)
LOOPBACK = "127.0.0.1"


class Sandbox:
    """Every office of `registry`, played on one loopback port. Not for real victims' data."""

    def __init__(self, registry: AgencyRegistry, options: SandboxOptions | None = None, *,
                 secrets_file: Path | None = None, environ: dict[str, str] | None = None) -> None:
        self.registry = registry
        self.options = options or SandboxOptions()
        self.secrets_file = secrets_file
        self.environ = environ  # None: the process environment
        self.ledger = AgencyLedger()
        self.memory = Memory()
        # The failure-rate draws (the player draws declines and pacing from its own generators).
        self.rng = random.Random(None if self.options.seed is None else self.options.seed + 2)
        self.rejecting: dict[str, str] = dict(self.options.reject)
        self._outages: dict[str, list[Window]] = {k: list(v) for k, v in self.options.outages.items()}
        self._started = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.player: Player | None = None
        self.url = ""

    async def start(self, host: str = LOOPBACK, port: int = 0) -> str:
        """Listen on `host:port` (0: any free port); return the base URL."""
        self._session = aiohttp.ClientSession()
        self.player = Player(self.registry, self.options, self.memory, self._session,
                             secrets_file=self.secrets_file, environ=self.environ)
        self._runner = web.AppRunner(build_app(self), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self._started = time.monotonic()
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        if self.player is not None:
            await self.player.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> Sandbox:
        if not self.url:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- steering ---------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def down(self, office: str) -> bool:
        now = self.elapsed()
        return any(w.covers(now) for key in (office, ALL_OFFICES) for w in self._outages.get(key, ()))

    def outage(self, office: str, seconds: float | None = None) -> None:
        """Take `office` (or `*`) down from now, for `seconds` (None: until `restore`)."""
        now = self.elapsed()
        end = now + seconds if seconds is not None else math.inf
        self._outages.setdefault(office, []).append(Window(start=now, end=end))

    def restore(self, office: str) -> None:
        self._outages.pop(office, None)

    def reject(self, office: str, reason: str | None) -> None:
        """Answer every delivery to `office` with a 422 carrying `reason` (None: stop refusing)."""
        if reason is None:
            self.rejecting.pop(office, None)
        else:
            self.rejecting[office] = reason

    # --- acting -----------------------------------------------------------------------------------

    def act(self, office: Office, kind: Kind, body: dict[str, Any], trace: dict[str, str] | None = None) -> None:
        """A message was applied: learn from a referral and play its storyline; honour a restriction.

        `trace`: the W3C trace headers the referral came with, handed back on the events it leads to."""
        assert self.player is not None, "start() the sandbox first"
        if kind == "notice":
            if body.get("purpose") == "restriction":
                stopped = self.player.stop(body["case_id"], office.id)
                log.info("sandbox_restriction_honoured", office=office.id, case_id=body["case_id"], stopped=stopped)
            return
        gateway = self.options.gateway_url or body.get("callback_url", "").split("/v1/agencies/")[0] or None
        self.memory.learn(office, body, gateway.rstrip("/") if gateway else None)
        if self.options.storylines:
            self.player.start(office, body, trace)


async def serve(settings: Settings, options: SandboxOptions, stop: asyncio.Event, port: int | None = None) -> Sandbox:
    """Run the sandbox for the configured registry until `stop` is set (`sinergi sandbox`, `sinergi dev`)."""
    registry = bootstrap.office_registry(settings)
    secrets_file = settings.dev.state_dir / DEV_SECRETS
    # Shared with the worker (outbound) and the gateway (inbound) through this file, so dev needs no setup.
    ensure_dev_secrets(secrets_file, registry.offices.values())
    sandbox = Sandbox(registry, options, secrets_file=secrets_file)
    url = await sandbox.start(settings.dev.sandbox_host, settings.dev.sandbox_port if port is None else port)
    elsewhere = [o.id for o in registry.offices.values()
                 if o.adapter == "webhook" and not str(o.settings.get("base_url", "")).startswith(url)]
    if elsewhere:
        log.warning("sandbox_offices_elsewhere", url=url, offices=len(elsewhere), example=elsewhere[0],
                    hint="their base_url in the agencies file points to another address")
    log.info("sandbox_listening", url=url, offices=len(registry.offices))
    try:
        await stop.wait()
    finally:
        await sandbox.stop()
    return sandbox
