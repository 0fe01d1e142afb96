"""The worker: the case workflow on the main task queue, agency deliveries on one queue per agency kind.

`build_workers` takes the activities built by the composition root (`sinergi.bootstrap.agency_activities`)
or a test's own pieces, and the version the workers poll as (`sinergi.bootstrap.worker_version`; None:
unversioned).
"""

from __future__ import annotations

import asyncio
import importlib.util
import py_compile
from collections.abc import Sequence
from contextlib import asynccontextmanager

import structlog
from temporalio.client import Client
from temporalio.common import VersioningBehavior
from temporalio.worker import Interceptor, Worker, WorkerDeploymentConfig
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from sinergi.activities.agencies import AgencyActivities
from sinergi.domain.agency_kinds import AGENCY_KINDS
from sinergi.platform.config import DEFAULT_CACHED_CASES
from sinergi.platform.versioning import WorkerVersion, settle_and_log
from sinergi.workflows.case import CaseWorkflow, agency_task_queue

WORKFLOWS = [CaseWorkflow]
log = structlog.get_logger(__name__)

# How a case follows a rollout on versioned workers (README "Upgrading workers"): AUTO_UPGRADE moves a running
# case to the deployment's current build at its next workflow task. Cases live for months: pinned (PINNED), each
# would keep its opening build's workers running until it closed, and never get a fix. The new build replays
# the case's history first, so every change to the workflow stays behind `workflow.patched` (tests/replay).
# Set on the workers, not in `@workflow.defn`: a behaviour declared there fails every workflow task on an
# unversioned worker (the server refuses it), and `versioning = "off"` must keep working.
CASE_VERSIONING = VersioningBehavior.AUTO_UPGRADE

# The sandbox re-imports, for every cached workflow, each module it does not pass through. The domain
# rules and the workflow's message models are deterministic and hold no state, so every case shares one
# copy: re-importing `sinergi.workflows.messages` rebuilt three pydantic models for every case
# (bench/RESULTS.md "Memory"). The workflow module itself stays sandboxed.
PASSED_THROUGH = ("sinergi.domain", "sinergi.workflows.messages", "sinergi.workflows.names",
                  "sinergi.workflows.observe")


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox every worker and replayer runs the case workflow in."""
    write_workflow_bytecode()
    return SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH))


def sandboxed_modules() -> list[str]:
    """The modules the sandbox imports afresh for each workflow it loads: each workflow's module and its packages."""
    names: list[str] = []
    for workflow_class in WORKFLOWS:
        parts = workflow_class.__module__.split(".")
        names += [".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) not in names]
    return names


_compiled: set[str] = set()


def write_workflow_bytecode() -> None:
    """Write the bytecode of the sandboxed modules where Python looks for it, once per process.

    The sandbox imports the workflow module again for every case it loads (a new case, or one evicted
    from the cache). Without bytecode on disk — `PYTHONDONTWRITEBYTECODE`, an editable install — each
    import compiles the source anew: 45 instead of 27 ms of CPU per case loaded (bench/RESULTS.md).
    """
    for name in sandboxed_modules():
        spec = importlib.util.find_spec(name)
        source = spec.origin if spec else None
        if not source or not source.endswith(".py") or source in _compiled:
            continue
        _compiled.add(source)
        try:
            py_compile.compile(source, cfile=importlib.util.cache_from_source(source), doraise=True)
        except (OSError, py_compile.PyCompileError) as exc:
            log.warning("workflow_bytecode_not_written", module=name, reason=str(exc),
                        hint="install sinergi with its bytecode (pip does by default), or make the package writable")


def deployment_config(version: WorkerVersion | None) -> WorkerDeploymentConfig | None:
    """Versioned workers poll as `version`; the case workflow auto-upgrades (CASE_VERSIONING)."""
    if version is None:
        return None
    return WorkerDeploymentConfig(version=version.version, use_worker_versioning=True,
                                  default_versioning_behavior=CASE_VERSIONING)


def build_workers(client: Client, task_queue: str, activities: AgencyActivities,
                  max_cached_workflows: int = DEFAULT_CACHED_CASES,
                  interceptors: Sequence[Interceptor] = (), version: WorkerVersion | None = None) -> list[Worker]:
    """The main worker and one worker per agency kind, all on one client, all polling as `version`.

    The agency kinds' queues carry the calls of cases run with a rate limit (`[temporal]
    agency_rate_limit`, enforced there by the server) and of runs begun before calls moved to the case's
    own queue; each takes at most `agency_concurrency` calls at once, the bulkhead's size.
    `interceptors` go to the main worker (tests use them to hold a workflow task open).
    """
    deployment = deployment_config(version)
    main = Worker(client, task_queue=task_queue, workflows=WORKFLOWS, max_cached_workflows=max_cached_workflows,
                  workflow_runner=workflow_runner(), interceptors=interceptors, deployment_config=deployment,
                  activities=[activities.dispatch, activities.route, activities.deliver_notice,
                              activities.deliver_referral, activities.record.record_facts])
    per_kind = [
        Worker(client, task_queue=agency_task_queue(task_queue, kind),
               activities=[activities.deliver_referral, activities.deliver_notice],
               max_concurrent_activities=activities.concurrency,
               max_task_queue_activities_per_second=activities.rate_limit, deployment_config=deployment)
        for kind in AGENCY_KINDS
    ]
    return [main, *per_kind]


async def run_workers(workers: Sequence[Worker], stop: asyncio.Event, version: WorkerVersion | None = None) -> None:
    """Run the workers until `stop` is set, then shut them down gracefully.

    `version` (the one given to `build_workers`): once they poll, make it the deployment's current version as
    its `promote` says, and log whether it is (a worker whose build is not current takes no case).
    """
    async with _all(workers):
        settling = asyncio.create_task(settle_and_log(workers[0].client, version)) if version else None
        try:
            await stop.wait()
        finally:
            if settling is not None:
                settling.cancel()
                await asyncio.gather(settling, return_exceptions=True)


@asynccontextmanager
async def _all(workers: Sequence[Worker]):
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)
