"""A case stays small across continue-as-new however much its offices send and however long it lives
(issue 19, finding 1; SPEC "Limits").

The review's frozen case carried 8.3 MB into continue-as-new. Here a real dev server suggests
continue-as-new every few dozen history events, the demo policy's clocks (seconds for days) fire and
escalate for "years" of follow-ups, and the lead office sends as much as it may, each event as large as
its limits allow: every continue-as-new input, decoded, must stay under `limits.STATE_MAX_BYTES`, and the
case must still answer and recognise a retried event after it continued.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from temporalio.api.enums.v1 import EventType

from sinergi.domain import authority, lifecycle, limits
from sinergi.domain.case import CaseInput
from sinergi.domain.ids import workflow_id
from sinergi.testing.cases import (
    ADULT_DOMESTIC,
    TEST_CONVERTER,
    dev_server_suggesting_continue_as_new,
    event,
    harness,
    intake,
)
from sinergi.testing.waiting import eventually
from sinergi.workflows.case import CaseWorkflow

pytestmark = pytest.mark.slow

SUGGEST_CAN_AT = 60


@pytest.fixture(scope="module")
async def small_history_env():
    env = await dev_server_suggesting_continue_as_new(SUGGEST_CAN_AT)
    yield env
    await env.shutdown()


async def continue_as_new_inputs(env, case_id: str) -> list[CaseInput]:
    """Every run's continue-as-new input, decoded (the payloads are encrypted in history)."""
    inputs = []
    async for execution in env.client.list_workflows(f"WorkflowId = '{workflow_id(case_id)}'"):
        handle = env.client.get_workflow_handle(execution.id, run_id=execution.run_id)
        async for history_event in handle.fetch_history_events():
            if history_event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                payloads = history_event.workflow_execution_continued_as_new_event_attributes.input.payloads
                assert sum(p.ByteSize() for p in payloads) < limits.STATE_MAX_BYTES
                (decoded,) = await TEST_CONVERTER.decode(payloads, [CaseInput])
                inputs.append(decoded)
    return inputs


async def test_the_most_an_office_may_send_and_years_of_follow_ups_stay_under_the_limit(small_history_env):
    env = small_history_env
    async with harness(env.client, policy="demo") as h:
        case_id = f"BIG-{uuid.uuid4().hex[:8].upper()}"
        await h.cases.open(intake(**ADULT_DOMESTIC), case_id=case_id)

        async def lead() -> str:
            office = (await h.cases.why(case_id)).lead_office
            assert office is not None
            return office
        sender = h.registry.offices[await eventually(lead)].sender

        async def send(type_: str, **data) -> None:
            await h.cases.send(event(case_id, type_, source=sender.office, **data), sender=sender)

        # As large as the limits allow: 50 indicators of 100 characters, screening kept open.
        indicators = [f"i{n:02d}" + "x" * (limits.ID_MAX - 3) for n in range(limits.ITEMS_MAX)]
        for _ in range(20):
            await send("identification.screening_completed", outcome="needs_more_info", indicators=indicators,
                       referred_elsewhere="y" * limits.NAME_MAX)
        # Consent withheld from as many offices as may be named, each name as long as allowed.
        for n in range(limits.ITEMS_MAX):
            await send("consent.withdrawn", scope="data_sharing", agency=f"o{n:02d}" + "z" * (limits.ID_MAX - 3))
        await send("consent.recorded", scope="data_sharing")
        # The lead moving the case back and forth between two regencies (each move re-refers the open
        # referrals and looks for the lead again), as a review grew a case past its limit with.
        for n in range(40):
            await send("case.transferred", province="KALSEL", regency=("Kota Banjarmasin", "Kabupaten Banjar")[n % 2])
            await eventually(lead)  # found again: BP3MI's province office
        await send("identification.screening_completed", outcome="presumed_victim", indicators=indicators)
        # Then through to reintegration (an operator, as the offices' storylines are not running here)...
        operator = lambda type_, **data: h.cases.send(event(case_id, type_, **data))  # noqa: E731
        await operator("identification.police_report_filed", report_number="LP/" + "9" * 90)
        await operator("protection.shelter_admitted", facility="f" * limits.NAME_MAX)
        await operator("protection.safe_placement_confirmed")
        await operator("rehabilitation.completed", needs_repatriation=False)
        await operator("reintegration.plan_agreed")
        # ...and "years" of follow-ups: the demo policy counts months in seconds, each visit stopping the
        # follow-up clock. A short pause every 20 visits: with 1.5 s pauses no more of the case's timers fired
        # (none did in either) and about as many runs continued as new.
        last = None
        for n in range(120):
            last = event(case_id, "reintegration.followup_completed", wellbeing="at_risk" if n % 5 else "stable")
            await h.cases.send(last)
            if n % 20 == 0:
                await asyncio.sleep(0.2)

        inputs = await continue_as_new_inputs(env, case_id)
        assert len(inputs) >= 3, "the case should have continued as new several times"
        sizes = [len(i.model_dump_json()) for i in inputs]
        print("continue-as-new inputs (bytes):", sizes)
        assert max(sizes) < limits.STATE_MAX_BYTES, sizes
        assert all(len(i.state.model_dump_json()) < limits.STATE_SOFT_MAX_BYTES for i in inputs)
        assert all(len(i.state.consent.withheld_from) <= limits.ITEMS_MAX for i in inputs)
        # After continuing as new the case still answers, and a retried event is still a duplicate.
        assert (await h.cases.send(last)).duplicate is True
        status = await h.cases.status(case_id)
        assert status.stage == "reintegration"


async def test_a_lead_search_cut_short_by_continue_as_new_is_taken_up_by_the_next_run(small_history_env):
    # Review: a transfer's search for the new lead runs beside the case; were the case to continue as new
    # before it answered, the next run must look again, or the case would have no lead for ever.
    env = small_history_env
    async with harness(env.client) as h:
        case_id = f"LEAD-{uuid.uuid4().hex[:8].upper()}"
        case = CaseInput(case_id=case_id, intake=intake(**ADULT_DOMESTIC), policy=h.policy)
        state, _ = lifecycle.open_case(case, datetime.now(UTC))
        state.province, state.regency = "JATIM", None
        authority.moved(state)  # as a transfer leaves it: the lead looked for, not yet found
        await env.client.start_workflow(CaseWorkflow.run, case.model_copy(update={"state": state}),
                                        id=workflow_id(case_id), task_queue=h.task_queue)

        async def lead() -> None:
            assert (await h.cases.why(case_id)).lead_office == "bp3mi_jatim"
        await eventually(lead)
        await h.cases.handle(case_id).terminate("test over")
