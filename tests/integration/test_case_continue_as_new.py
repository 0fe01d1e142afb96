"""The case workflow on a real dev server: continue-as-new carries the whole case across runs, and a
refused event leaves history exactly as it was (the real server drops a rejected update's task).

The dev server is started here, with history limits low enough that a short case continues as new.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from sinergi.cases import EventRefused
from sinergi.domain.ids import workflow_id
from sinergi.policies import load_policy
from sinergi.testing.cases import (
    ADULT_DOMESTIC,
    dev_server_suggesting_continue_as_new,
    event,
    harness,
    intake,
)
from sinergi.testing.waiting import eventually

SUGGEST_CAN_AT = 40


@pytest.fixture(scope="module")
async def small_history_env():
    env = await dev_server_suggesting_continue_as_new(SUGGEST_CAN_AT)
    yield env
    await env.shutdown()


def short_lpsk_policy():
    """The default policy with the LPSK decision deadline (T3) cut to seconds, to see it fire after CAN (which
    comes ~1.2 s after the filing that starts T3: 6 s leaves it five times that)."""
    policy = load_policy("default")
    clocks = [c.model_copy(update={"duration": "6s"}) if c.id == "T3" else c for c in policy.clocks]
    return policy.model_copy(update={"clocks": clocks})


async def settled(h, case_id):
    async def check():
        st = await h.cases.status(case_id)
        assert not [r for r in st.referrals if r.status == "pending"]
        return st
    return await eventually(check)


async def test_case_continues_as_new_with_its_state_clocks_referrals_and_applied_event_ids(small_history_env):
    async with harness(small_history_env.client, policy=short_lpsk_policy()) as h:
        case_id = f"CAN-{uuid.uuid4().hex[:8].upper()}"
        await h.cases.open(intake(**ADULT_DOMESTIC), case_id=case_id)
        handle = h.client.get_workflow_handle(workflow_id(case_id))
        first_run = (await handle.describe()).run_id

        screening = event(case_id, "identification.screening_completed", event_id="screening-1",
                          outcome="presumed_victim")
        await h.cases.send(screening)
        await settled(h, case_id)
        await h.cases.send(event(case_id, "identification.police_report_filed", report_number="LP/1/2026"))
        await h.cases.send(event(case_id, "protection.lpsk_application_filed", event_id="lpsk-1"))
        before = await settled(h, case_id)
        run_before = (await handle.describe()).run_id
        t3_before = next(c for c in before.clocks if c.id == "T3")
        assert t3_before.state == "running"

        # Events with no effect on the case but history: enough of them to pass the suggested limit.
        fillers = [f"filler-{n}" for n in range(12)]
        for event_id in fillers:
            await h.cases.send(event(case_id, "reintegration.rights_settled", event_id=event_id))

        async def continued():
            described = await handle.describe()
            assert described.run_id != run_before
            assert described.status == WorkflowExecutionStatus.RUNNING
            return described
        await eventually(continued)
        history = await h.client.get_workflow_handle(workflow_id(case_id), run_id=first_run).fetch_history()
        assert history.events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW

        after = await h.cases.status(case_id)
        assert after.stage == before.stage == "protection"
        assert after.breaches == []  # T3 is still running: it fires in the new run
        assert [(r.referral_id, r.agency, r.status) for r in after.referrals] == [
            (r.referral_id, r.agency, r.status) for r in before.referrals]
        assert [(c.key, c.due_at) for c in after.clocks if c.state == "running"] == [
            (c.key, c.due_at) for c in before.clocks if c.state == "running"]
        assert after.consent == before.consent and after.flags == before.flags

        # Applied event ids survive: a duplicate after continue-as-new is still a duplicate.
        again = await h.cases.send(screening)
        assert again.duplicate is True
        assert (await h.cases.send(event(case_id, "reintegration.rights_settled", event_id=fillers[0]))).duplicate
        timeline = await h.cases.timeline(case_id)
        refs = [e.ref for e in timeline.entries if e.kind == "event"]
        assert refs.count("screening-1") == 1 and refs.count(fillers[0]) == 1
        assert all(refs.count(f) == 1 for f in fillers)

        # A clock that was running across the runs still fires, once, in the new run.
        async def breached():
            st = await h.cases.status(case_id)
            assert [(b.clock, b.kind) for b in st.breaches] == [("T3", "breach")]
            assert [(e.clock, e.rung) for e in st.escalations] == [("T3", 1)]
        await eventually(breached, timeout=30)
        assert (await h.cases.send(event(case_id, "protection.lpsk_decision", decision="accepted"))).stage == \
            "protection"
        # Each referral reached its office once (a delivery in flight at continue-as-new is sent again with
        # the same idempotency key, and the office acts on it once) and is recorded as delivered once. A
        # screening answered before its delivery began is never sent: its outcome made it moot.
        final = await h.cases.status(case_id)
        delivered = [m.referral_id for _, m in h.ledger.for_case(case_id)]
        assert len(delivered) == len(set(delivered))
        assert sorted(delivered) == sorted(d.ref for d in final.deliveries)
        expected = {r.referral_id for r in after.referrals if r.service != "screening"}
        assert expected <= set(delivered)
        await handle.terminate("test finished")


async def test_refused_event_adds_no_event_to_history_on_a_real_server(small_history_env):
    async with harness(small_history_env.client) as h:
        case_id = f"REF-{uuid.uuid4().hex[:8].upper()}"
        await h.cases.open(intake(**ADULT_DOMESTIC), case_id=case_id)
        handle = h.client.get_workflow_handle(workflow_id(case_id))
        await settled(h, case_id)
        await asyncio.sleep(0.5)
        before = len((await handle.fetch_history()).events)
        for type_ in ("repatriation.departed", "protection.safe_placement_confirmed", "legal.judgment_final"):
            with pytest.raises(EventRefused):
                await h.cases.send(event(case_id, type_))
        assert len((await handle.fetch_history()).events) == before

        await h.cases.send(event(case_id, "identification.screening_completed", outcome="not_victim"))

        async def finished():
            assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
        await eventually(finished)
        with pytest.raises(EventRefused, match="closed"):
            await h.cases.send(event(case_id, "reintegration.rights_settled"))
