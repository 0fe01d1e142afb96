"""The gateway's composition root: resources from the settings, and the server for `sinergi gateway`."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from aiohttp import web

from sinergi.cases import Cases
from sinergi.codec import codec_from_settings
from sinergi.config import Settings
from sinergi.domain.agencies import AgencyRegistry, Office, load_registry
from sinergi.domain.policy import load_policy
from sinergi.gateway.app import create_app
from sinergi.gateway.auth import InboundSecret, Verifiers
from sinergi.gateway.resources import Resources, TemporalLink
from sinergi.secrets import DEV_SECRETS, MissingSecret, office_secret

log = structlog.get_logger("sinergi.gateway")

# Longer than any agency keeps an idle connection; shorter than letting idle sockets pile up.
KEEPALIVE_SECONDS = 75.0


@asynccontextmanager
async def open_resources(settings: Settings, cases: Cases | None = None) -> AsyncIterator[Resources]:
    """Load the registry, the codec keys and the secrets' sources; link to Temporal (given `cases`, or
    connecting in the background). Configuration errors raise here, before anything listens."""
    registry = load_registry(settings.agencies.file)
    codec = codec_from_settings(settings.codec)
    policy = load_policy(settings.policy.file)
    secrets_file = settings.dev.state_dir / DEV_SECRETS

    def inbound_secret(office: Office) -> str:
        return office_secret(office, "inbound", secrets_file=secrets_file)

    _warn_missing_secrets(registry, inbound_secret)
    token = os.environ.get(settings.gateway.codec_token_env) or None
    if token is None:
        log.warning("codec_token_missing", env=settings.gateway.codec_token_env,
                    effect="every /codec request is refused with 401")

    async def connect_cases() -> Cases:
        from sinergi.temporal import connect

        return Cases(await connect(settings), settings.temporal.task_queue, policy)

    temporal = TemporalLink.to(cases) if cases is not None else TemporalLink(connect_cases)
    yield Resources(verifiers=Verifiers(registry, inbound_secret), temporal=temporal, codec=codec,
                    codec_token=token, namespace=settings.temporal.namespace)


def _warn_missing_secrets(registry: AgencyRegistry, inbound_secret: InboundSecret) -> None:
    missing = []
    for office in registry.offices.values():
        try:
            inbound_secret(office)
        except MissingSecret:
            missing.append(office.id)
    if missing:
        log.warning("inbound_secrets_missing", offices=missing, effect="their events are refused with 401")


def gateway_runner(app: web.Application) -> web.AppRunner:
    """The runner `serve` uses; tests use it too, so they meet the server agencies meet."""
    # Our own structured line per event replaces aiohttp's access log. Handlers are not cancelled when a
    # client hangs up (aiohttp's default): an event being applied finishes, and is logged, either way.
    return web.AppRunner(app, access_log=None, keepalive_timeout=KEEPALIVE_SECONDS)


async def serve(settings: Settings, stop: asyncio.Event, cases: Cases | None = None) -> None:
    """Serve the gateway on `gateway.host:port` until `stop` is set; `cases` reuses a connected client."""
    runner = gateway_runner(create_app(settings.gateway, lambda: open_resources(settings, cases)))
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.gateway.host, settings.gateway.port)
        await site.start()
        log.info("gateway_listening", url=settings.gateway.base_url)
        await stop.wait()
    finally:
        await runner.cleanup()
