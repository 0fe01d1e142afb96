"""Shared steps for the time-skipping workflow tests: a harness that cleans up after itself, polling
helpers for what agencies do asynchronously, and short walks that carry a case to a given stage.

Time only moves when a test says so (`advance`): the time-skipping server keeps virtual time locked
otherwise, so activities and deliveries finish in real time while the case's clocks stand still.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from sinergi.domain.ids import workflow_id
from sinergi.domain.views import CaseStatus, ClockView, ReferralView
from sinergi.testing.cases import ADULT_DOMESTIC as ADULT_DOMESTIC  # for the workflow tests
from sinergi.testing.cases import Harness, event, harness
from sinergi.testing.waiting import eventually

CHILD = {"person": {"date_of_birth": "2012-05-01"}}


@asynccontextmanager
async def case_harness(env: WorkflowEnvironment, **kwargs: Any):
    """`sinergi.testing.cases.harness`, terminating the cases it opened before its workers stop, so no
    orphaned workflow ever holds a later test's virtual time."""
    async with harness(env.client, **kwargs) as h:
        opened: list[str] = []
        original = h.open

        async def open_(**overrides: Any) -> str:
            case_id = await original(**overrides)
            opened.append(case_id)
            return case_id

        h.open = open_  # type: ignore[method-assign]
        try:
            yield h
        finally:
            h.ledger.down.clear()
            h.ledger.reject.clear()
            h.ledger.slow.clear()
            for case_id in opened:
                await _retire(env, h, case_id)


async def _retire(env: WorkflowEnvironment, h: Harness, case_id: str) -> None:
    """Terminate a case once no task of it is in flight.

    The time-skipping test server keeps virtual time locked for a scheduled activity or workflow task
    until it completes; a case terminated mid-task, or left running after its workers stopped, would
    freeze virtual time for every later test of the session.
    """
    handle = h.client.get_workflow_handle(workflow_id(case_id))
    if not env.supports_time_skipping:
        # A real-time server (the dev server) locks no clock: terminate now. Its `sleep` is a real one,
        # and the six "minutes" below once held a CI run for 362 s on a case whose delivery still retried.
        await _terminate(handle)
        return
    for _ in range(3):
        try:
            described = await handle.describe()
        except RPCError:
            return
        if described.status != WorkflowExecutionStatus.RUNNING:
            return
        busy = list(described.raw_description.pending_activities)
        if not busy:
            await asyncio.sleep(0.1)  # let a workflow task that just started complete
            if not (await handle.describe()).raw_description.pending_activities:
                await _terminate(handle)
                return
            continue
        # An activity waiting out its retry backoff: let virtual time run to its next attempt.
        await env.sleep(timedelta(minutes=6))
        await asyncio.sleep(0.2)
    await _terminate(handle)


async def _terminate(handle) -> None:
    with contextlib.suppress(RPCError):  # it completed meanwhile (its last record went out as it was described)
        await handle.terminate("test finished")


async def advance(env: WorkflowEnvironment, **kwargs: float) -> None:
    """Let virtual time pass: every timer due meanwhile fires, in order."""
    await env.sleep(timedelta(**kwargs))


async def settled(h: Harness, case_id: str) -> CaseStatus:
    """The status once no referral waits for delivery."""

    async def check() -> CaseStatus:
        st = await h.cases.status(case_id)
        assert not [r.referral_id for r in st.referrals if r.status == "pending"]
        return st

    return await eventually(check)


def referral(st: CaseStatus, service: str, *, index: int = -1, status: str | None = None) -> ReferralView:
    found = [r for r in st.referrals if r.service == service and (status is None or r.status == status)]
    assert found, f"no {service} referral ({status or 'any status'}) in {[(r.service, r.status) for r in st.referrals]}"
    return found[index]


def clock(st: CaseStatus, clock_id: str, context: str | None = None, *, index: int = -1) -> ClockView:
    found = [c for c in st.clocks if c.id == clock_id and (context is None or c.context == context)]
    assert found, f"no clock {clock_id} ({context}) in {[(c.key, c.state) for c in st.clocks]}"
    return found[index]


def breaches(st: CaseStatus, clock_id: str) -> list:
    return [b for b in st.breaches if b.clock == clock_id]


def escalations(st: CaseStatus, clock_id: str) -> list:
    return [e for e in st.escalations if e.clock == clock_id]


def notices(h: Harness, case_id: str, *, purpose: str | None = None, clock_id: str | None = None) -> list:
    """(office, notice) pairs the sandbox agencies received for a case."""
    return [(office, n) for office, n in h.ledger.notices_for_case(case_id)
            if (purpose is None or n.purpose == purpose) and (clock_id is None or n.clock == clock_id)]


def offices_referred(h: Harness, case_id: str, service: str | None = None) -> list[str]:
    return [office for office, m in h.ledger.for_case(case_id) if service is None or m.service == service]


_WORKFLOW_TASK_EVENTS = {EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
                         EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED}


async def recorded_events(h: Harness, case_id: str) -> int:
    """History events that record something about the case: everything but workflow-task bookkeeping.

    The real server drops the speculative workflow task of a rejected update, so a refused event adds no
    history event at all there (tests/integration checks that on a dev server). The time-skipping test
    server has no speculative tasks: it records the task's three bookkeeping events, nothing else.
    """
    history = await h.client.get_workflow_handle(workflow_id(case_id)).fetch_history()
    return len([e for e in history.events if e.event_type not in _WORKFLOW_TASK_EVENTS])


async def quiet_history(h: Harness, case_id: str) -> int:
    """`recorded_events` once the case has finished its current work (deliveries, timers started)."""
    last = await recorded_events(h, case_id)
    while True:
        await asyncio.sleep(0.2)
        now_ = await recorded_events(h, case_id)
        if now_ == last:
            return now_
        last = now_


async def now(env: WorkflowEnvironment) -> datetime:
    return await env.get_current_time()


# --- walks ------------------------------------------------------------------------------------------


async def send(h: Harness, case_id: str, type_: str, event_id: str | None = None, source: str | None = None,
               **data: Any):
    return await h.cases.send(event(case_id, type_, event_id=event_id, source=source, **data))


async def to_protection(h: Harness, case_id: str) -> CaseStatus:
    """The first-contact agency acknowledges and accepts the screening, then presumes a victim: the outcome
    completes the screening referral (rules v2)."""
    st = await settled(h, case_id)
    screenings = [r.referral_id for r in st.referrals if r.service == "screening" and r.status == "sent"]
    for rid in screenings:
        await h.send(case_id, "referral.acknowledged", referral_id=rid)
        await h.send(case_id, "referral.accepted", referral_id=rid)
    await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")
    st = await settled(h, case_id)
    assert all(r.status == "completed" for r in st.referrals if r.referral_id in screenings)
    return st


async def to_rehabilitation(h: Harness, case_id: str) -> CaseStatus:
    await to_protection(h, case_id)
    await h.send(case_id, "identification.police_report_filed", report_number="LP/123/XI/2026")
    await h.send(case_id, "protection.shelter_admitted", facility="RPTC Banjarbaru")
    await h.send(case_id, "protection.safe_placement_confirmed")
    return await settled(h, case_id)


async def to_repatriation(h: Harness, case_id: str) -> CaseStatus:
    await to_rehabilitation(h, case_id)
    await h.send(case_id, "rehabilitation.completed", return_to="Kabupaten Banjar", needs_repatriation=True)
    return await settled(h, case_id)


async def to_reintegration_at_home(h: Harness, case_id: str) -> CaseStatus:
    """A domestic case: rehabilitation ends with the victim already home."""
    await to_rehabilitation(h, case_id)
    await h.send(case_id, "rehabilitation.completed", return_to="Kabupaten Banjar", needs_repatriation=False)
    return await settled(h, case_id)


def ladder(st: CaseStatus, clock_id: str) -> list[tuple[int, str, str]]:
    """The escalations of one clock so far: (rung, agency kind, role)."""
    return [(e.rung, e.agency, e.role) for e in st.escalations if e.clock == clock_id]


def ladder_notices(h: Harness, case_id: str, clock_id: str) -> list[tuple[int | None, str]]:
    """The escalation notices of one clock the agencies received: (rung, office), in rung order."""
    return sorted(((n.rung, office) for office, n in notices(h, case_id, purpose="escalation", clock_id=clock_id)),
                  key=lambda pair: pair[0] or 0)


async def wait_for_notices(h: Harness, case_id: str, clock_id: str, count: int) -> list[tuple[int | None, str]]:
    async def check():
        found = ladder_notices(h, case_id, clock_id)
        assert len(found) == count, found
        return found

    return await eventually(check)
