"""A sealed event copied from a case's history and sent again, by someone who can reach Temporal but holds no keys.

The payload is sealed for this very case, so the worker opens it. While the case remembers the event's id, the copy
is a duplicate and changes nothing; once the sender's hundred newer events pushed that id out, the case refuses the
copy because it was sealed before everything it still remembers from that sender (`authority.stale`). Before this
check the copy applied a second time. On the real dev server, through the worker's real codec.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import RawValue
from temporalio.converter import DataConverter, PayloadCodec

from sinergi.domain import limits
from sinergi.testing.cases import event, harness

pytestmark = pytest.mark.slow


class _SendsAsIsReadsWithKeys(PayloadCodec):
    def __init__(self, keyed: DataConverter) -> None:
        self._keyed = keyed.payload_codec

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self._keyed.decode(payloads)


async def sealed_update_inputs(h, case_id: str) -> list:
    """The raw (sealed) payloads of each event update the case's history accepted, oldest first."""
    found = []
    async for e in h.cases.handle(case_id).fetch_history_events():
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            found.append(e.workflow_execution_update_accepted_event_attributes.accepted_request.input.args.payloads[0])
    return found


async def test_a_sealed_event_copied_from_the_history_never_applies_twice(dev_env):
    async with harness(dev_env.client) as h:
        case_id = await h.open()
        first = event(case_id, "identification.screening_completed", outcome="needs_more_info")
        await h.cases.send(first)
        [copied] = await sealed_update_inputs(h, case_id)
        assert b"needs_more_info" not in copied.data  # sealed: the attacker cannot read or change it

        # The attacker's client hands the sealed bytes over as they are (it holds no keys); it reads the
        # answer with the keys only so that this test can tell why the case refused.
        plain = await Client.connect(dev_env.client.service_client.config.target_host,
                                     namespace=dev_env.client.namespace,
                                     data_converter=dataclasses.replace(
                                         dev_env.client.data_converter,
                                         payload_codec=_SendsAsIsReadsWithKeys(dev_env.client.data_converter)))
        handle = plain.get_workflow_handle(h.cases.handle(case_id).id)
        with pytest.raises(WorkflowUpdateFailedError) as remembered:
            await handle.execute_update("apply_event", RawValue(copied))
        assert "already applied" in str(remembered.value.cause)

        for n in range(limits.APPLIED_KEPT_PER_SENDER):
            await h.cases.send(event(case_id, "case.contact_lost" if n % 2 == 0 else "case.contact_restored"))
        applied_before = len(await sealed_update_inputs(h, case_id))

        with pytest.raises(WorkflowUpdateFailedError) as forgotten:
            await handle.execute_update("apply_event", RawValue(copied))
        assert "cannot be told from one already applied" in str(forgotten.value.cause)
        assert len(await sealed_update_inputs(h, case_id)) == applied_before  # nothing reached the history

        # The operator's own retry of that old event (a fresh seal) is taken as the new event it now is.
        again = await h.cases.send(first)
        assert again.duplicate is False


@pytest.fixture
async def own_skipping_env():
    """A time-skipping test server of this test's own: the attacker terminates a case mid-task, which would hold
    the session's server's virtual time still for every later test."""
    from temporalio.testing import WorkflowEnvironment

    from sinergi.platform.binaries import temporal_test_server
    from sinergi.platform.temporal import ensure_search_attributes
    from sinergi.testing.cases import TEST_CONVERTER

    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=temporal_test_server(),
                                                       data_converter=TEST_CONVERTER)
    await ensure_search_attributes(env.client, env.client.namespace)
    yield env
    await env.shutdown()


async def test_a_case_restarted_from_its_old_sealed_input_takes_no_old_copy(own_skipping_env):
    """Someone who may start and terminate workflows (but holds no keys) restarts a case from the sealed input of
    its first run, which remembers none of its events, and sends an old sealed event again: refused as too old.
    On the time-skipping test server, whose clock the harness seals with."""
    from datetime import timedelta

    from temporalio.common import WorkflowIDReusePolicy

    from sinergi.domain import limits

    env = own_skipping_env
    async with harness(env.client) as h:
        case_id = await h.open()
        await h.cases.send(event(case_id, "identification.screening_completed", outcome="needs_more_info"))
        [copied] = await sealed_update_inputs(h, case_id)
        handle = h.cases.handle(case_id)
        first = [e async for e in handle.fetch_history_events()][0]
        old_input = first.workflow_execution_started_event_attributes.input.payloads[0]

        await env.sleep(limits.SEALED_MAX_AGE + timedelta(minutes=1))
        plain = await Client.connect(env.client.service_client.config.target_host, namespace=env.client.namespace,
                                     data_converter=dataclasses.replace(
                                         env.client.data_converter,
                                         payload_codec=_SendsAsIsReadsWithKeys(env.client.data_converter)))
        await plain.get_workflow_handle(handle.id).terminate("attacker")
        await plain.start_workflow("CaseWorkflow", RawValue(old_input), id=handle.id, task_queue=h.task_queue,
                                   id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE)
        restarted = plain.get_workflow_handle(handle.id)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await restarted.execute_update("apply_event", RawValue(copied))
        assert "a copy, or held too long" in str(refused.value.cause)
        assert (await h.cases.status(case_id)).stage == "identification"  # the copy changed nothing
        await restarted.terminate("test finished")
