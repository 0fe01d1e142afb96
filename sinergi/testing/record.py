"""Record the histories kept in tests/replay/histories (run by hand when the workflow gains a shape
worth protecting; see README "Safe upgrades").

    python -m sinergi.testing.record FOLDER [SCENARIO ...]     # all scenarios when none is named

Record into a scratch folder and copy the new history in under a name of its own: the saved ones are
the shapes older code produced (e.g. `full_lifecycle_abroad_rules_v2.json`) and must not be overwritten.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from sinergi.cases import NotAllowed, NotAParty
from sinergi.platform.binaries import temporal_test_server
from sinergi.platform.temporal import ensure_search_attributes
from sinergi.testing.cases import TEST_CONVERTER, Harness, event, harness

Scenario = Callable[[Harness, WorkflowEnvironment], Awaitable[str]]


async def _referral(h: Harness, case_id: str, service: str) -> str:
    status = await h.cases.status(case_id)
    return next(r.referral_id for r in status.referrals if r.service == service and r.status != "cancelled")


async def full_lifecycle_abroad(h: Harness, env: WorkflowEnvironment, pace: int = 1) -> str:
    """A case found abroad, from screening to reintegration: six hours pass after every `pace`-th event (and
    the last), so clocks fall due and climb their ladders between them; a larger `pace` sends the events
    between in one go (fewer workflow tasks, for tests replaying the whole history on each)."""
    case_id = await h.open()
    await env.sleep(timedelta(hours=1))
    steps: list[tuple[str, dict]] = [
        ("identification.screening_completed", {"outcome": "presumed_victim"}),
        ("identification.police_report_filed", {"report_number": "LP/B/1/XI/2026"}),
        ("protection.shelter_admitted", {"facility": "KBRI shelter"}),
        ("protection.safe_placement_confirmed", {}),
        ("rehabilitation.request_filed", {"services": ["health", "social"], "filed_by": "social_worker"}),
        ("rehabilitation.service_started", {"service": "health"}),
        ("rehabilitation.service_started", {"service": "social"}),
        ("rehabilitation.completed", {"needs_repatriation": True, "return_to": "Kabupaten Banjar"}),
        ("repatriation.risk_assessed", {"safe": True}),
        ("repatriation.travel_document_issued", {}),
        ("repatriation.departed", {"port": "Kuala Lumpur"}),
        ("repatriation.arrived_port_of_entry", {"port": "Banjarmasin"}),
        ("repatriation.arrived_home", {"regency": "Kabupaten Banjar"}),
        ("reintegration.plan_agreed", {}),
        ("reintegration.followup_completed", {"wellbeing": "stable"}),
        ("reintegration.completed", {}),
    ]
    shelter_acked = False
    for i, (type_, data) in enumerate(steps):
        await h.send(case_id, type_, **data)
        if i % pace == 0 or i == len(steps) - 1:
            await env.sleep(timedelta(hours=6))
        if not shelter_acked and type_ == "identification.screening_completed":
            await h.send(case_id, "referral.acknowledged", referral_id=await _referral(h, case_id, "shelter"))
            shelter_acked = True
    return case_id


async def breach_and_ladder(h: Harness, env: WorkflowEnvironment) -> str:
    case_id = await h.open()
    await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")
    await h.send(case_id, "identification.police_report_filed", report_number="LP/2")
    await h.send(case_id, "rehabilitation.request_filed", services=["social"], filed_by="victim")
    await env.sleep(timedelta(days=9))
    await h.send(case_id, "rehabilitation.service_started", service="social")
    return case_id


async def contact_lost_and_declined(h: Harness, env: WorkflowEnvironment) -> str:
    case_id = await h.open(situation={"location_country": "ID"})
    await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")
    await env.sleep(timedelta(minutes=5))
    shelter = await _referral(h, case_id, "shelter")
    await h.send(case_id, "referral.declined", referral_id=shelter, reason="full")
    await h.send(case_id, "case.contact_lost")
    # Not a whole number of days: the contact attempts fall due daily, and an event sent the very moment a
    # timer fires trips the time-skipping test server ("invalid history builder state for action").
    await env.sleep(timedelta(days=2, hours=3))
    await h.send(case_id, "case.contact_restored")
    await h.send(case_id, "consent.withdrawn", scope="data_sharing")
    await h.send(case_id, "case.closed", reason="recorded for replay")
    return case_id


async def offices_as_senders(h: Harness, env: WorkflowEnvironment) -> str:
    """Events as the gateway hands them over: each names its sending office, and the case checks its
    authority (a refused outsider, or a party deciding what only the lead may, leaves nothing in history)."""
    case_id = await h.open()
    offices = h.registry.offices
    as_office = lambda office_id: offices[office_id].sender  # noqa: E731 - a one-line lookup, read beside its use
    await env.sleep(timedelta(minutes=30))
    # The office is a party once its referral is routed to it, by an activity that runs in real time while the
    # test server skips time: under load it may not have answered yet (a CI run saw NotAParty here).
    await _until_referred(h, case_id, "bp3mi_kalsel")
    await h.cases.send(event(case_id, "identification.screening_completed", source="bp3mi_kalsel",
                             outcome="presumed_victim"), sender=as_office("bp3mi_kalsel"))
    await env.sleep(timedelta(hours=1))
    await _refused(h, event(case_id, "consent.recorded", source="uptd_ppa_jatim", scope="services"),
                   as_office("uptd_ppa_jatim"), NotAParty)
    await h.cases.send(event(case_id, "protection.shelter_admitted", source="kbri_kuala_lumpur",
                             facility="KBRI shelter"), sender=as_office("kbri_kuala_lumpur"))
    await h.cases.send(event(case_id, "case.transferred", source="bp3mi_kalsel", province="JATIM"),
                       sender=as_office("bp3mi_kalsel"))
    await env.sleep(timedelta(hours=1))
    # The transfer moved the lead to JATIM's BP3MI office: it decides consent. UPTD PPA JATIM covers the
    # new province but was sent nothing: not a party; KBRI takes part but does not lead (SPEC "Authority").
    await _refused(h, event(case_id, "consent.recorded", source="uptd_ppa_jatim", scope="services"),
                   as_office("uptd_ppa_jatim"), NotAParty)
    await _refused(h, event(case_id, "consent.recorded", source="kbri_kuala_lumpur", scope="services"),
                   as_office("kbri_kuala_lumpur"), NotAllowed)
    await h.cases.send(event(case_id, "consent.recorded", source="bp3mi_jatim", scope="services"),
                       sender=as_office("bp3mi_jatim"))
    await h.send(case_id, "case.closed", reason="recorded for replay")
    return case_id


async def _until_referred(h: Harness, case_id: str, office: str, timeout: float = 30.0) -> None:
    """Until the case has referred something to `office` (which makes it a party), in real time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(r.agency == office for r in (await h.cases.status(case_id)).referrals):
        if loop.time() > deadline:
            raise AssertionError(f"case {case_id} referred nothing to {office} within {timeout:g} s")
        await asyncio.sleep(0.05)


async def _refused(h: Harness, refused_event, sender, error: type[Exception]) -> None:
    """Send an event the case must refuse with `error` (its authority): it leaves nothing in history."""
    try:
        await h.cases.send(refused_event, sender=sender)
    except error:
        return
    raise AssertionError(f"the case applied {refused_event.type} from {sender.office}")


async def complaint_followup_missed(h: Harness, env: WorkflowEnvironment) -> str:
    """A complaint to UPTD PPA: T15 counts three working days (weekends and the policy's days off skipped),
    is missed and climbs its ladder; the screening then stops it."""
    case_id = await h.open(situation={"location_country": "ID"},
                           source={"agency": "uptd_ppa", "channel": "complaint"})
    await env.sleep(timedelta(days=12))
    await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")
    await env.sleep(timedelta(hours=1))
    return case_id


async def notice_to_an_office_down(h: Harness, env: WorkflowEnvironment) -> str:
    """T1 missed while the office serving the service is down: the ladder's first notice fails its local
    try and goes on as an activity, delivered once the office is back."""
    case_id = await h.open(situation={"location_country": "ID", "is_pmi": False})
    await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")
    await h.send(case_id, "identification.police_report_filed", report_number="LP/3")
    await h.send(case_id, "rehabilitation.request_filed", services=["social"], filed_by="victim")
    await env.sleep(timedelta(hours=1))
    h.ledger.down.add("dinsos_kalsel")
    await env.sleep(timedelta(days=7))
    h.ledger.down.discard("dinsos_kalsel")
    await env.sleep(timedelta(minutes=10))
    await h.send(case_id, "rehabilitation.service_started", service="social")
    await env.sleep(timedelta(hours=1))
    return case_id


SCENARIOS: dict[str, Scenario] = {
    "full_lifecycle_abroad": full_lifecycle_abroad,
    "breach_and_ladder": breach_and_ladder,
    "contact_lost_and_declined": contact_lost_and_declined,
    "offices_as_senders": offices_as_senders,
    "complaint_followup_missed": complaint_followup_missed,
    "notice_to_an_office_down": notice_to_an_office_down,
}


async def record(folder: Path, names: list[str] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    env = await WorkflowEnvironment.start_time_skipping(test_server_existing_path=temporal_test_server(),
                                                        data_converter=TEST_CONVERTER)
    try:
        await ensure_search_attributes(env.client, env.client.namespace)
        async with harness(env.client) as h:
            for name in names or SCENARIOS:
                case_id = await SCENARIOS[name](h, env)
                history = await h.cases.handle(case_id).fetch_history()
                (folder / f"{name}.json").write_text(json.dumps(
                    {"workflow_id": history.workflow_id, "history": json.loads(history.to_json())}, indent=1))
                print(f"recorded {name}: {len(history.events)} events")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/replay/histories"), sys.argv[2:]))
    # A process that used the Temporal client can abort at interpreter exit (TEMPORAL.md): end it here.
    sys.stdout.flush()
    os._exit(0)
