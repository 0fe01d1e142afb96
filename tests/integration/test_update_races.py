"""An event that finishes a case while other work reaches it, on the real dev server.

Runs begun before the case record: the task that applied the close also completed the workflow, so the server
refused it when new history events waited (UNHANDLED_COMMAND, the update aborted; `Cases.send` sends it again),
and an update still waiting was aborted NOT_FOUND, "aborted by closing workflow". Since the record (patch
`case-record`) a closing run first tells the record, in a task of its own: the close's task completes nothing,
and an event waiting meanwhile is refused by the case itself. Either way the close is applied once, and the
office whose event came too late hears that the case is closed, not that it is unknown."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.worker import (
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from sinergi.cases import EventRefused
from sinergi.domain.ids import workflow_id
from sinergi.testing.cases import ADULT_DOMESTIC, event, harness


class HoldFirstClose(Interceptor):
    """Holds open the workflow task that applies the first `case.closed` (at most 1.5 s, under the
    worker's 2 s deadlock limit) until the test lets it go."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.release = threading.Event()

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        hold = self

        class Inbound(WorkflowInboundInterceptor):
            async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
                envelope = input.args[0]
                if (envelope.event.type == "case.closed" and not hold.holding.is_set()
                        and not workflow.unsafe.is_replaying()):
                    hold.holding.set()
                    with workflow.unsafe.sandbox_unrestricted():
                        hold.release.wait(1.5)  # blocks the workflow task, as a slow one would
                return await super().handle_update_handler(input)

        return Inbound


async def _close_while_held(h, hold: HoldFirstClose, case_id: str, meanwhile):
    """Send the close; while its workflow task is held open, await `meanwhile()`; then let the task go.
    Returns what `meanwhile` returned."""
    await h.cases.status(case_id)  # the case's first workflow task done: the close gets one of its own
    closing = asyncio.create_task(h.cases.send(
        event(case_id, "case.closed", event_id="ppa-2026-close-1", reason="victim returned home")))
    async with asyncio.timeout(10):
        while not hold.holding.is_set():
            await asyncio.sleep(0.01)
    other = await meanwhile()
    hold.release.set()
    closed = await closing
    assert (closed.event_id, closed.stage, closed.duplicate) == ("ppa-2026-close-1", "closed", False)
    return other


async def test_a_close_decided_while_a_history_event_arrives_is_applied_once(dev_env):
    # A history event (here a signal; in service an agency's answer or a clock firing) arrives while the
    # task that closes the case is being decided. Were that task to complete the workflow, the server would
    # refuse it (UNHANDLED_COMMAND) and abort the close, which `Cases.send` sends again; it no longer
    # completes it (the record is told first), so nothing is refused. Either way: applied once.
    hold = HoldFirstClose()
    async with harness(dev_env.client, interceptors=[hold]) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        handle = h.client.get_workflow_handle(workflow_id(case_id))
        await _close_while_held(h, hold, case_id, lambda: handle.signal("a-history-event"))

        assert (await handle.result())["stage"] == "closed"
        events = [e async for e in handle.fetch_history_events()]
        refused = [e.workflow_task_failed_event_attributes.cause for e in events
                   if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
        assert refused in ([], [WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND])
        timeline = (await h.cases.timeline(case_id)).entries
        assert [e.kind for e in timeline if e.ref == "ppa-2026-close-1"] == ["event"]


async def test_an_event_left_waiting_when_the_case_closes_is_refused_as_closed_not_unknown(dev_env):
    # An update that waits while the case's task finishes it is aborted by the server as NOT_FOUND
    # ("aborted by closing workflow"): the office must hear that the case is closed, not that it is unknown.
    hold = HoldFirstClose()
    async with harness(dev_env.client, interceptors=[hold]) as h:
        case_id = await h.open(**ADULT_DOMESTIC)

        async def another_event():
            sent = asyncio.create_task(h.cases.send(event(case_id, "case.contact_lost", event_id="ppa-2026-lost-1")))
            await asyncio.sleep(0.3)  # at the server, waiting, before the held task completes
            return sent

        lost = await _close_while_held(h, hold, case_id, another_event)
        with pytest.raises(EventRefused, match="case.contact_lost refused: the case is closed") as refused:
            await lost
        # Refused by the case itself (it was still telling the record), or — for a run that completed in the
        # close's own task — aborted by the server with it; never "unknown case".
        cause = str(refused.value.__cause__)
        assert "aborted by closing workflow" in cause or "update failed" in cause.lower()
