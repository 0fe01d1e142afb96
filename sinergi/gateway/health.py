"""`GET /healthz` (liveness: the process is up) and `GET /readyz` (readiness: it can apply events now).

Ready means: the configuration loaded (registry, codec keys, secrets), Temporal answers, and a worker
polls every task queue an event needs — the case queue's workflow and activity tasks, and each agency
kind's queue where the deployment runs agency calls there. Without a worker an event waits its whole
`apply_timeout_seconds` and then gets 503, so a load balancer should send agencies elsewhere. The
server's answer is reused for `resources.READY_CACHE_SECONDS`, so probes cost it little.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from sinergi.gateway.errors import RETRY_AFTER_SECONDS
from sinergi.gateway.resources import RESOURCES, QueueType


class UnpolledQueue(BaseModel):
    """A task queue, and the type of its tasks, that no worker has polled lately."""

    task_queue: str
    type: QueueType


class Health(BaseModel):
    """The body of `/healthz` and `/readyz`."""

    status: Literal["ok", "ready", "unavailable"]
    checks: dict[str, bool] = Field(default_factory=dict, description=(
        "each readiness check and whether it passed: `config` loaded, `temporal` reachable, `workers` polling "
        "every task queue below"))
    no_worker: list[UnpolledQueue] = Field(default_factory=list, description=(
        "the task queues (and task types) no worker has polled in the last two minutes: events wait there"))


async def healthz(request: web.Request) -> web.Response:
    return web.json_response(Health(status="ok").model_dump(exclude={"no_worker"}))


async def readyz(request: web.Request) -> web.Response:
    # Resources only exist once the configuration (registry, codec keys, secrets) loaded without error.
    resources = request.config_dict.get(RESOURCES)
    report = await resources.temporal.readiness(resources.agency_queues) if resources is not None else None
    reachable = report is not None and report.reachable
    checks = {"config": resources is not None, "temporal": reachable,
              "workers": reachable and not report.unpolled}
    ready = all(checks.values())
    body = Health(status="ready" if ready else "unavailable", checks=checks,
                  no_worker=[UnpolledQueue(task_queue=q, type=t) for q, t in (report.unpolled if report else ())])
    return web.json_response(body.model_dump(), status=200 if ready else 503,
                             headers=None if ready else {"Retry-After": str(RETRY_AFTER_SECONDS)})
