"""A case that cannot make progress is seen, not silent (issue 19, finding 1's aftermath).

The review froze a case for good: every workflow task failed (its continue-as-new input over the payload
limit), and for ever after every event waited 20 s and got a bare 503, `case status` said "busy", and
nothing said why. Here a worker whose case workflow fails every task stands in for any such cause, on
the real dev server: the reads, the event path and the worker's metrics must each say the case is stuck.
"""

from __future__ import annotations

import socket
import uuid

import aiohttp
import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from sinergi.cases import Cases, CaseStuck
from sinergi.domain.case import CaseInput
from sinergi.policies import load_policy
from sinergi.testing.cases import ADULT_DOMESTIC, TEST_CONVERTER, event, intake
from sinergi.testing.waiting import eventually

pytestmark = pytest.mark.slow


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class AlwaysFailingCase:
    """Fails every workflow task, as a case whose history the code can no longer carry would."""

    @workflow.run
    async def run(self, case: CaseInput) -> None:
        raise RuntimeError("a bug in the case workflow (test)")


@pytest.fixture(scope="module")
async def stuck_env():
    """A dev server of its own, where a workflow task times out after 1 s, not 10 s: the SDK reports only a
    task's first failure; its later attempts time out, and it takes three attempts to look stuck."""
    from temporalio.testing import WorkflowEnvironment

    from sinergi.platform.binaries import temporal_cli
    from sinergi.platform.temporal import search_attribute_flags

    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), data_converter=TEST_CONVERTER,
        dev_server_extra_args=[*search_attribute_flags(), "--headless",
                               "--dynamic-config-value", 'history.defaultWorkflowTaskTimeout="1s"'])
    yield env
    await env.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_case_whose_workflow_task_keeps_failing_is_reported_stuck_by_reads_events_and_metrics(stuck_env):
    metrics = f"127.0.0.1:{free_port()}"
    runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=metrics)))
    client = await Client.connect(stuck_env.client.service_client.config.target_host,
                                  namespace=stuck_env.client.namespace, data_converter=TEST_CONVERTER, runtime=runtime)
    queue = f"stuck-{uuid.uuid4().hex[:8]}"
    cases = Cases(client, queue, load_policy("default"))
    case_id = f"STUCK-{uuid.uuid4().hex[:8].upper()}"
    async with Worker(client, task_queue=queue, workflows=[AlwaysFailingCase]):
        await cases.open(intake(**ADULT_DOMESTIC), case_id=case_id)

        async def stuck_on_read() -> CaseStuck:
            try:
                await cases.why(case_id)
            except CaseStuck as stuck:
                return stuck
            raise AssertionError("the read did not say the case is stuck")

        stuck = await eventually(stuck_on_read, timeout=60, interval=0.5)
        assert f"case {case_id} cannot make progress" in str(stuck)
        assert "WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE" in str(stuck)
        assert "a bug in the case workflow" not in str(stuck)  # the failure's text may quote data: never shown

        # An event sent to it is answered "stuck", not "busy, retry"; the server refused it with the failed
        # task, so it certainly was not applied (the gateway's 503 says `may_still_apply: false`).
        with pytest.raises(CaseStuck) as sent:
            await cases.send(event(case_id, "case.contact_lost"))
        assert sent.value.may_still_apply is False

        # The worker's metrics count the failing tasks, per workflow type (Temporal's own counter).
        async with aiohttp.ClientSession() as http, http.get(f"http://{metrics}/metrics") as response:
            text = await response.text()
        failed = [line for line in text.splitlines()
                  if line.startswith("temporal_workflow_task_execution_failed") and "CaseWorkflow" in line]
        assert failed and float(failed[0].rsplit(" ", 1)[1]) >= 3
    await cases.handle(case_id).terminate("test over")
