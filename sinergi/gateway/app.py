"""The gateway's aiohttp application: routes, middleware, and the resources opened for its lifetime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from aiohttp import hdrs, web

from sinergi.gateway import devlogin, devmail, referral_page
from sinergi.gateway.codec_server import codec_app
from sinergi.gateway.errors import json_errors
from sinergi.gateway.events import post_event
from sinergi.gateway.health import healthz, readyz
from sinergi.gateway.openapi import openapi_document, serve_openapi
from sinergi.gateway.resources import LANES, OPENAPI, RESOURCES, SETTINGS, CaseLanes, Resources
from sinergi.platform.config import GatewaySettings
from sinergi.platform.tracing import server_middleware

OpenResources = Callable[[], AbstractAsyncContextManager[Resources]]

# Every response's `Server` header: aiohttp's default names Python's and its own versions.
SERVER_NAME = "sinergi"


async def _name_server(request: web.Request, response: web.StreamResponse) -> None:
    # Responses aiohttp makes before any route (a malformed request) get it in serve.GatewayProtocol.
    response.headers[hdrs.SERVER] = SERVER_NAME


def create_app(settings: GatewaySettings, open_resources: OpenResources) -> web.Application:
    """The gateway for `settings`; `open_resources` is entered when the app starts and left when it stops.

    Production passes `sinergi.gateway.serve.open_resources(settings)`; tests pass their own (a
    registry, secrets and a `TemporalLink.to(cases)` of their harness).
    """
    # client_max_size guards aiohttp's own readers; our handlers also read with an explicit cap.
    # Tracing outermost, so its span sees the status json_errors turns an error into.
    app = web.Application(middlewares=[server_middleware(link_only=True), json_errors],
                          client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app.on_response_prepare.append(_name_server)
    app[OPENAPI] = openapi_document(settings.base_url)
    app[LANES] = CaseLanes(settings.case_concurrency)
    app.cleanup_ctx.append(_resources(open_resources))
    app.router.add_post("/v1/agencies/{office}/events", post_event)
    app.router.add_get("/v1/openapi.json", serve_openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.add_subapp("/codec", codec_app())
    referral_page.install(app)  # `/r/{token}`: the referral page of offices without a system of their own
    if settings.dev_ui_login is not None:  # `sinergi dev` only: the link its banner prints
        app.router.add_get(devlogin.PATH, devlogin.open_dev_ui)
    if settings.dev_mailbox is not None:  # `sinergi dev` only: the e-mail offices' mail, caught on loopback
        app[devmail.MAILBOX] = settings.dev_mailbox
        app.router.add_get(devmail.PATH, devmail.list_mail)
    return app


def _resources(open_resources: OpenResources) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        async with open_resources() as resources:
            app[RESOURCES] = resources
            connecting = asyncio.create_task(resources.temporal.keep_connecting())
            try:
                yield
            finally:
                connecting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await connecting

    return context
