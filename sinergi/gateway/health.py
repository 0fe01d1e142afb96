"""`GET /healthz` (the process is up) and `GET /readyz` (Temporal reachable, configuration loaded)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from sinergi.gateway.errors import RETRY_AFTER_SECONDS
from sinergi.gateway.resources import RESOURCES


class Health(BaseModel):
    """The body of `/healthz` and `/readyz`."""

    status: Literal["ok", "ready", "unavailable"]
    checks: dict[str, bool] = Field(default_factory=dict, description="each readiness check and whether it passed")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response(Health(status="ok").model_dump())


async def readyz(request: web.Request) -> web.Response:
    # Resources only exist once the configuration (registry, codec keys, secrets) loaded without error.
    resources = request.config_dict.get(RESOURCES)
    checks = {"config": resources is not None,
              "temporal": resources is not None and await resources.temporal.reachable()}
    ready = all(checks.values())
    body = Health(status="ready" if ready else "unavailable", checks=checks)
    return web.json_response(body.model_dump(), status=200 if ready else 503,
                             headers=None if ready else {"Retry-After": str(RETRY_AFTER_SECONDS)})
