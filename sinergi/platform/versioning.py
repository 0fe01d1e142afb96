"""Worker Versioning: which build a worker is, and making a build the one cases run on (README "Upgrading
workers").

Each worker polls as one version — `[temporal] deployment_name` (default: the task queue's name) and
`build_id` (default: sinergi's version and a fingerprint of its code) — of a Temporal Worker Deployment. The
server sends a case's workflow and activity tasks only to its version's workers; the deployment's *current*
version takes every new case, and, the case workflow being AUTO_UPGRADE (`sinergi.worker.CASE_VERSIONING`),
every running case at its next task. Old and new code therefore never take turns on one case, and a rollout
is one switch: `set_current` (or the worker itself, `[temporal] versioning = "auto"`).
"""

from __future__ import annotations

import asyncio
import enum
import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from temporalio.api.workflowservice.v1 import (
    DescribeWorkerDeploymentRequest,
    SetWorkerDeploymentCurrentVersionRequest,
    SetWorkerDeploymentRampingVersionRequest,
)
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.service import RPCError, RPCStatusCode

import sinergi
from sinergi.platform.config import Settings

log = structlog.get_logger(__name__)

# Worth retrying while a new version's workers register with the server: the deployment or the version is not
# known yet (NOT_FOUND), or a task queue of the current version is not polled yet, or another worker changed
# the deployment between our read and our write (FAILED_PRECONDITION, ABORTED).
_NOT_YET = (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.ABORTED,
            RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED)


class Promote(enum.Enum):
    """When a worker makes its own build the deployment's current version."""

    NEVER = "never"    # `versioning = "manual"`: the operator does (`sinergi admin deploy set-current`)
    NEW = "new"        # `versioning = "auto"`: a build never current before, unless a newer build is current
    ALWAYS = "always"  # `sinergi dev`: the code on this machine is the code to run, whatever ran before


@dataclass(frozen=True)
class WorkerVersion:
    """The version a worker polls as, and whether it promotes itself."""

    deployment_name: str
    build_id: str
    promote: Promote = Promote.NEW

    @property
    def version(self) -> WorkerDeploymentVersion:
        return WorkerDeploymentVersion(self.deployment_name, self.build_id)


@functools.cache
def code_fingerprint(root: Path | None = None) -> str:
    """12 hex digits of SHA-256 over the sinergi package's Python sources (paths and contents): the same for
    every process of one installation or image, different after any change to the code."""
    root = root or Path(sinergi.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def default_build_id() -> str:
    return f"{sinergi.__version__}-{code_fingerprint()}"


def deployment_name(settings: Settings) -> str:
    return settings.temporal.deployment_name or settings.temporal.task_queue.replace(".", "-")


def build_id(settings: Settings) -> str:
    return settings.temporal.build_id or default_build_id()


def worker_version(settings: Settings, *, dev: bool = False) -> WorkerVersion | None:
    """The version this installation's workers poll as (None: `versioning = "off"`); `dev`: `sinergi dev`,
    whose worker makes its build current even if it was replaced before (a branch checked out again)."""
    mode = settings.temporal.versioning
    if mode == "off":
        return None
    promote = Promote.NEVER if mode == "manual" else Promote.ALWAYS if dev else Promote.NEW
    return WorkerVersion(deployment_name(settings), build_id(settings), promote)


@dataclass(frozen=True)
class VersionInfo:
    build_id: str
    status: str  # current, ramping, draining, drained, inactive
    created: datetime | None
    was_active: bool  # current or ramping at some time


@dataclass(frozen=True)
class DeploymentStatus:
    name: str
    current: str | None  # the current build id; None: unversioned workers take new cases
    ramping: str | None
    ramping_percentage: float
    versions: list[VersionInfo]
    conflict_token: bytes = b""

    def version(self, build: str) -> VersionInfo | None:
        return next((v for v in self.versions if v.build_id == build), None)


def _time(message, field: str) -> datetime | None:
    return getattr(message, field).ToDatetime() if message.HasField(field) else None


async def describe(client: Client, name: str) -> DeploymentStatus | None:
    """The deployment's versions and routing; None if no versioned worker of it ever polled this namespace."""
    request = DescribeWorkerDeploymentRequest(namespace=client.namespace, deployment_name=name)
    for attempt in range(20):
        try:
            response = await client.workflow_service.describe_worker_deployment(request)
            break
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            # "too many requests issued to Worker Deployment": busy registering a new version's task queues.
            if exc.status != RPCStatusCode.RESOURCE_EXHAUSTED or attempt == 19:
                raise
            await asyncio.sleep(0.25)
    info = response.worker_deployment_info
    routing = info.routing_config
    versions = [
        VersionInfo(build_id=s.deployment_version.build_id,
                    status=_status_name(s.status),
                    created=_time(s, "create_time"),
                    was_active=s.HasField("first_activation_time"))
        for s in info.version_summaries
    ]
    versions.sort(key=lambda v: v.created or datetime.min)
    return DeploymentStatus(
        name=info.name,
        current=routing.current_deployment_version.build_id or None,
        ramping=routing.ramping_deployment_version.build_id or None,
        ramping_percentage=routing.ramping_version_percentage,
        versions=versions, conflict_token=response.conflict_token)


def _status_name(status: int) -> str:
    from temporalio.api.enums.v1 import WorkerDeploymentVersionStatus

    name = WorkerDeploymentVersionStatus.Name(status)
    return name.removeprefix("WORKER_DEPLOYMENT_VERSION_STATUS_").lower()


async def set_current(client: Client, name: str, build: str | None, *, conflict_token: bytes = b"",
                      wait: float = 0.0) -> str | None:
    """Make `build` the current version of deployment `name` (None: unversioned workers); returns the build id
    that was current before (None: unversioned). With `wait`, keeps trying for that many seconds while the
    build's workers register (a version is known once its workers poll)."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            response = await client.workflow_service.set_worker_deployment_current_version(
                SetWorkerDeploymentCurrentVersionRequest(namespace=client.namespace, deployment_name=name,
                                                         build_id=build or "", conflict_token=conflict_token,
                                                         identity=client.identity))
            return response.previous_deployment_version.build_id or None
        except RPCError as exc:
            if exc.status not in _NOT_YET or asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.25)


async def set_ramping(client: Client, name: str, build: str | None, percentage: float, *,
                      conflict_token: bytes = b"", wait: float = 0.0) -> tuple[str | None, float]:
    """Send `percentage` of deployment `name`'s new cases — and of its auto-upgrading running cases, chosen by
    case id — to `build` beside the current one (None: stop ramping). Returns what ramped before, and at what
    percentage. `wait` as `set_current`."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            response = await client.workflow_service.set_worker_deployment_ramping_version(
                SetWorkerDeploymentRampingVersionRequest(namespace=client.namespace, deployment_name=name,
                                                         build_id=build or "", percentage=percentage if build else 0,
                                                         conflict_token=conflict_token, identity=client.identity))
            return response.previous_deployment_version.build_id or None, response.previous_percentage
        except RPCError as exc:
            if exc.status not in _NOT_YET or asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.25)


@dataclass(frozen=True)
class Settled:
    """What `settle` found or did: `outcome` is current (already), promoted, left (not this worker's to do:
    `reason`), or failed (`reason`)."""

    outcome: str
    current: str | None = None
    reason: str = ""


async def settle(client: Client, worker: WorkerVersion, *, timeout: float = 60.0, interval: float = 0.25) -> Settled:
    """Once the worker's version is registered (its workers poll), make it current as `worker.promote` says.

    `Promote.NEW` never takes the deployment back: not to a build that was current before and was replaced (a
    rollback an operator chose, or an old worker restarting), nor from a build newer than this one.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    last = "the version did not register: do its workers poll?"
    while asyncio.get_running_loop().time() < deadline:
        try:
            status = await describe(client, worker.deployment_name)
            mine = status.version(worker.build_id) if status else None
            if status is None or mine is None:
                await asyncio.sleep(interval)
                continue
            if status.current == worker.build_id:
                return Settled("current", status.current)
            if worker.promote is Promote.NEVER:
                return Settled("left", status.current, "versioning is manual: sinergi admin deploy set-current "
                                                       f"{worker.build_id}")
            if worker.promote is Promote.NEW:
                current = status.version(status.current) if status.current else None
                if mine.was_active:
                    return Settled("left", status.current, "this build was current before and was replaced")
                if current and current.created and mine.created and current.created > mine.created:
                    return Settled("left", status.current, f"a newer build is current ({status.current})")
            await set_current(client, worker.deployment_name, worker.build_id,
                              conflict_token=status.conflict_token)
            return Settled("promoted", worker.build_id)
        except RPCError as exc:
            if exc.status not in _NOT_YET:
                return Settled("failed", None, f"{exc.status.name}: {exc.message}")
            last = f"{exc.status.name}: {exc.message}"
            await asyncio.sleep(interval)
    return Settled("failed", None, last)


async def settle_and_log(client: Client, worker: WorkerVersion, *, timeout: float = 60.0) -> Settled:
    settled = await settle(client, worker, timeout=timeout)
    fields = {"deployment": worker.deployment_name, "build_id": worker.build_id, "current": settled.current}
    if settled.outcome in ("current", "promoted"):
        log.info("worker_version_current", outcome=settled.outcome, **fields)
    elif settled.outcome == "left":
        log.warning("worker_version_not_current", reason=settled.reason, **fields,
                    effect="this worker takes no case until its build is made current",
                    hint=f"sinergi admin deploy set-current {worker.build_id}")
    else:
        log.error("worker_version_not_settled", reason=settled.reason, **fields,
                  hint=f"sinergi admin deploy status; sinergi admin deploy set-current {worker.build_id}")
    return settled


async def admin_client(settings: Settings) -> Client:
    """A client for deployment operations only: the configured cluster and credentials, no payload codec (no
    payload is read or written, so neither the keys file nor the codec endpoint is needed)."""
    from sinergi.platform.temporal import api_key, tls_config

    return await Client.connect(settings.temporal.address, namespace=settings.temporal.namespace,
                                tls=tls_config(settings), api_key=api_key(settings))
