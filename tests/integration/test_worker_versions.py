"""Two builds of the worker against one real dev server (Worker Versioning, README "Upgrading workers").

A case opened on build 1 keeps running when build 2 rolls out: build 2 makes itself current, the case moves to
it at its next task (AUTO_UPGRADE, `sinergi.worker.CASE_VERSIONING`), answers its queries there once build 1 is
stopped, and closes; new cases start on build 2; build 1 restarting does not take the cases back. A deployment
that ran unversioned workers moves to versioned ones the same way. The deployment admin CLI reads and switches
the same deployment.

Each test has its own task queue and deployment name on the session's dev server (the time-skipping test
server has no Worker Deployments).
"""

from __future__ import annotations

import asyncio
import json
import uuid

from click.testing import CliRunner
from temporalio.api.enums.v1 import VersioningBehavior as VersioningBehaviorProto
from temporalio.client import Client

import sinergi
from sinergi.activities.agencies import AgencyActivities
from sinergi.adapters.base import AdapterContext
from sinergi.adapters.sandbox import Ledger, SandboxAdapter
from sinergi.agencies import load_registry
from sinergi.cases import Cases
from sinergi.commands.deploy_admin import deploy
from sinergi.domain.ids import workflow_id
from sinergi.platform.versioning import Promote, WorkerVersion, default_build_id, describe, settle
from sinergi.policies import load_policy
from sinergi.testing.cases import ADULT_DOMESTIC, event, intake
from sinergi.testing.waiting import eventually
from sinergi.worker import build_workers, run_workers

AUTO_UPGRADE = VersioningBehaviorProto.VERSIONING_BEHAVIOR_AUTO_UPGRADE


class Build:
    """The real workers (case workflow, agency deliveries over the in-process sandbox) polling as `version`."""

    def __init__(self, client: Client, task_queue: str, version: WorkerVersion | None) -> None:
        registry = load_registry("sandbox")
        stand_in = SandboxAdapter(AdapterContext(callback_base_url="http://127.0.0.1:1"), Ledger())
        adapters = {name: stand_in for name in {"sandbox", *(o.adapter for o in registry.offices.values())}}
        activities = AgencyActivities(registry, adapters, "http://127.0.0.1:1")
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(run_workers(build_workers(client, task_queue, activities, version=version),
                                                     self._stop, version=version))

    async def stop(self) -> None:
        self._stop.set()
        await self._task


async def current_build(client: Client, deployment: str, expected: str | None) -> None:
    async def check():
        found = await describe(client, deployment)
        assert (found.current if found else None) == expected
    await eventually(check, timeout=15)


async def case_version(client: Client, case_id: str) -> tuple[str, int]:
    """The build that ran the case's last workflow task, and its versioning behaviour."""
    described = await client.get_workflow_handle(workflow_id(case_id)).describe()
    info = described.raw_description.workflow_execution_info.versioning_info
    return info.deployment_version.build_id, info.behavior


async def ran_on(client: Client, case_id: str, build: str) -> None:
    """Until a workflow task of the case has completed on `build`, auto-upgrading (a case just opened has not
    run one yet)."""
    async def check():
        assert await case_version(client, case_id) == (build, AUTO_UPGRADE)
    await eventually(check, timeout=10)


def names() -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    return f"test-{tag}", f"sinergi-test-{tag}"


def deploy_cli(client: Client, deployment: str):
    """`sinergi admin deploy ... --json` against `deployment` on the session's server: (exit code, document)."""
    env = {"SINERGI_CONFIG": None, "SINERGI_TEMPORAL_ADDRESS": client.service_client.config.target_host,
           "SINERGI_TEMPORAL_NAMESPACE": client.namespace, "SINERGI_TEMPORAL_DEPLOYMENT_NAME": deployment}

    async def admin(*args: str):
        # In a thread: the command runs its own event loop, as `sinergi admin deploy` does in its process.
        result = await asyncio.to_thread(CliRunner().invoke, deploy, [*args, "--json"], env=env)
        # The document, after any log line the workers (this process) wrote meanwhile to the captured stdout.
        text = result.output
        return result.exit_code, json.loads(text[0 if text.startswith("{") else text.index("\n{") + 1:])

    return admin


async def test_a_running_case_moves_to_the_new_build_and_new_cases_start_there(dev_env):
    client = dev_env.client
    queue, deployment = names()
    v1 = WorkerVersion(deployment, "0.1.0-aaaaaaaaaaaa", Promote.NEW)
    v2 = WorkerVersion(deployment, "0.2.0-bbbbbbbbbbbb", Promote.NEW)
    cases = Cases(client, queue, load_policy("default"))

    builds = [Build(client, queue, v1)]
    try:
        await current_build(client, deployment, v1.build_id)
        old = f"V-{uuid.uuid4().hex[:10].upper()}"
        await cases.open(intake(**ADULT_DOMESTIC), case_id=old)
        await cases.send(event(old, "identification.screening_completed", outcome="presumed_victim"))
        assert await case_version(client, old) == (v1.build_id, AUTO_UPGRADE)

        # Roll out: build 2's workers start beside build 1's and make their build current.
        builds.append(Build(client, queue, v2))
        await current_build(client, deployment, v2.build_id)
        assert (await describe(client, deployment)).version(v1.build_id).status in ("draining", "drained")
        # Build 1 is retired; restarting it (a crashed pod, a late replica) would not take the cases back.
        await builds[0].stop()
        restarted = await settle(client, v1, timeout=5)
        assert (restarted.outcome, restarted.current) == ("left", v2.build_id), restarted
        assert "current before" in restarted.reason

        # The old case answers queries on build 2, takes its next event there, and stays auto-upgrading.
        assert (await cases.status(old)).case_id == old
        await cases.send(event(old, "identification.police_report_filed", report_number="LP/7/2026"))
        assert await case_version(client, old) == (v2.build_id, AUTO_UPGRADE)
        # A new case starts on build 2.
        fresh = f"V-{uuid.uuid4().hex[:10].upper()}"
        await cases.open(intake(**ADULT_DOMESTIC), case_id=fresh)
        await ran_on(client, fresh, v2.build_id)
        # Both close on build 2.
        for case_id in (old, fresh):
            await cases.send(event(case_id, "case.closed", reason="returned home"))
            result = await client.get_workflow_handle(workflow_id(case_id)).result()
            assert result["stage"] == "closed"
    finally:
        for build in builds:
            await build.stop()


async def test_cases_of_unversioned_workers_move_to_the_first_versioned_build(dev_env):
    # The upgrade of a deployment that ran with `versioning = "off"` (or before it existed).
    client = dev_env.client
    queue, deployment = names()
    cases = Cases(client, queue, load_policy("default"))
    builds = [Build(client, queue, None)]
    try:
        case_id = f"V-{uuid.uuid4().hex[:10].upper()}"
        await cases.open(intake(**ADULT_DOMESTIC), case_id=case_id)
        assert (await cases.status(case_id)).case_id == case_id  # answered: its first task has run
        assert (await case_version(client, case_id))[0] == ""
        v1 = WorkerVersion(deployment, "0.2.0-cccccccccccc", Promote.NEW)
        builds.append(Build(client, queue, v1))
        await current_build(client, deployment, v1.build_id)
        await builds[0].stop()
        await cases.send(event(case_id, "identification.screening_completed", outcome="presumed_victim"))
        assert await case_version(client, case_id) == (v1.build_id, AUTO_UPGRADE)
        await client.get_workflow_handle(workflow_id(case_id)).terminate("test finished")
    finally:
        for build in builds:
            await build.stop()


async def test_manual_rollout_with_the_deploy_commands(dev_env):
    # `versioning = "manual"`: the new build's workers poll but take no case until an operator makes it current.
    client = dev_env.client
    queue, deployment = names()
    build = WorkerVersion(deployment, "0.3.0-dddddddddddd", Promote.NEVER)
    admin = deploy_cli(client, deployment)

    code, before = await admin("status")
    assert code == 0, before
    assert (before["deployment"], before["current"], before["versions"]) == (deployment, None, [])
    assert before["this_build"] == default_build_id() and before["this_build"].startswith(f"{sinergi.__version__}-")
    builds = [Build(client, queue, build)]
    try:
        left = await settle(client, build, timeout=10)
        assert (left.outcome, left.current) == ("left", None) and "manual" in left.reason
        code, polled = await admin("status")
        assert [(v["build_id"], v["status"]) for v in polled["versions"]] == [(build.build_id, "inactive")]

        code, switched = await admin("set-current", build.build_id, "--wait", "10")
        assert (code, switched) == (0, {"deployment": deployment, "current": build.build_id, "previous": None,
                                        "changed": True})
        code, status = await admin("status")
        assert code == 0 and status["current"] == build.build_id
        assert [(v["build_id"], v["status"]) for v in status["versions"]] == [(build.build_id, "current")]
        assert (await admin("set-current", build.build_id))[1]["changed"] is False

        code, refused = await admin("set-current", "0.0.0-nosuchbuild0", "--wait", "0")
        assert (code, refused["error"]) == (1, "version_not_found"), refused

        code, back = await admin("set-current", "--unversioned")
        assert (code, back["current"], back["previous"]) == (0, None, build.build_id)
    finally:
        for running in builds:
            await running.stop()


async def test_a_ramped_build_takes_its_share_of_the_cases_until_the_ramp_stops(dev_env):
    # `versioning = "manual"`: build 2 polls beside the current build 1 and is tried on a share of the cases.
    client = dev_env.client
    queue, deployment = names()
    v1 = WorkerVersion(deployment, "0.4.0-eeeeeeeeeeee", Promote.NEW)
    v2 = WorkerVersion(deployment, "0.5.0-ffffffffffff", Promote.NEVER)
    cases = Cases(client, queue, load_policy("default"))
    admin = deploy_cli(client, deployment)

    async def opened() -> str:
        case_id = f"V-{uuid.uuid4().hex[:10].upper()}"
        await cases.open(intake(**ADULT_DOMESTIC), case_id=case_id)
        return case_id

    builds = [Build(client, queue, v1)]
    try:
        await current_build(client, deployment, v1.build_id)
        running = await opened()
        await ran_on(client, running, v1.build_id)
        builds.append(Build(client, queue, v2))

        assert (await admin("ramp", v2.build_id))[1]["error"] == "usage"  # how much?
        code, refused = await admin("ramp", v1.build_id, "--percent", "10")
        assert (code, refused["error"]) == (1, "already_current"), refused
        code, ramped = await admin("ramp", v2.build_id, "--percent", "100", "--wait", "15")
        assert (code, ramped) == (0, {"deployment": deployment, "current": v1.build_id, "ramping": v2.build_id,
                                      "percentage": 100.0, "previous": None, "previous_percentage": 0.0}), ramped
        code, status = await admin("status")
        assert (status["current"], status["ramping"], status["ramping_percentage"]) == (
            v1.build_id, v2.build_id, 100.0)
        assert status["versions"] and {v["build_id"]: v["status"] for v in status["versions"]}[v2.build_id] == "ramping"

        # At 100%: a new case starts on build 2, and the running one takes its next event there.
        tried = await opened()
        await ran_on(client, tried, v2.build_id)
        await cases.send(event(running, "identification.screening_completed", outcome="presumed_victim"))
        assert await case_version(client, running) == (v2.build_id, AUTO_UPGRADE)

        code, stopped = await admin("ramp", "--stop")
        assert (code, stopped["ramping"], stopped["previous"], stopped["previous_percentage"]) == (
            0, None, v2.build_id, 100.0), stopped
        after = await opened()
        await ran_on(client, after, v1.build_id)
        await cases.send(event(tried, "identification.screening_completed", outcome="presumed_victim"))
        assert await case_version(client, tried) == (v1.build_id, AUTO_UPGRADE)  # back on the current build
        for case_id in (running, tried, after):
            await client.get_workflow_handle(workflow_id(case_id)).terminate("test finished")
    finally:
        for build in builds:
            await build.stop()
