"""The worker: the case workflow on the main task queue, agency deliveries on one queue per agency kind.

`build_workers` takes the activities built by the composition root (`sinergi.bootstrap.agency_activities`)
or a test's own pieces.
"""

from __future__ import annotations

import asyncio
import importlib.util
import py_compile
from collections.abc import Sequence
from contextlib import asynccontextmanager

import structlog
from temporalio.client import Client
from temporalio.worker import Interceptor, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from sinergi.activities.agencies import AgencyActivities
from sinergi.domain.agency_kinds import AGENCY_KINDS
from sinergi.platform.config import DEFAULT_CACHED_CASES
from sinergi.workflows.case import CaseWorkflow, agency_task_queue

WORKFLOWS = [CaseWorkflow]
log = structlog.get_logger(__name__)

# The sandbox re-imports, for every cached workflow, each module it does not pass through. The domain
# rules and the workflow's message models are deterministic and hold no state, so every case shares one
# copy: re-importing `sinergi.workflows.messages` rebuilt three pydantic models for every case
# (bench/RESULTS.md "Memory"). The workflow module itself stays sandboxed.
PASSED_THROUGH = ("sinergi.domain", "sinergi.workflows.messages", "sinergi.workflows.observe")


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


def build_workers(client: Client, task_queue: str, activities: AgencyActivities,
                  max_cached_workflows: int = DEFAULT_CACHED_CASES,
                  interceptors: Sequence[Interceptor] = ()) -> list[Worker]:
    """The main worker and one worker per agency kind, all on one client.

    The agency kinds' queues carry the calls of cases run with a rate limit (`[temporal]
    agency_rate_limit`, enforced there by the server) and of runs begun before calls moved to the case's
    own queue; each takes at most `agency_concurrency` calls at once, the bulkhead's size.
    `interceptors` go to the main worker (tests use them to hold a workflow task open).
    """
    main = Worker(client, task_queue=task_queue, workflows=WORKFLOWS, max_cached_workflows=max_cached_workflows,
                  workflow_runner=workflow_runner(), interceptors=interceptors,
                  activities=[activities.dispatch, activities.route, activities.deliver_notice,
                              activities.deliver_referral, activities.record.record_facts])
    per_kind = [
        Worker(client, task_queue=agency_task_queue(task_queue, kind),
               activities=[activities.deliver_referral, activities.deliver_notice],
               max_concurrent_activities=activities.concurrency,
               max_task_queue_activities_per_second=activities.rate_limit)
        for kind in AGENCY_KINDS
    ]
    return [main, *per_kind]


async def run_workers(workers: Sequence[Worker], stop: asyncio.Event) -> None:
    """Run the workers until `stop` is set, then shut them down gracefully."""
    async with _all(workers):
        await stop.wait()


@asynccontextmanager
async def _all(workers: Sequence[Worker]):
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)
