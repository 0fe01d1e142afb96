"""Events in: a refused event changes nothing (nothing reaches history), the same event id is applied once,
and an event for the wrong stage is refused with the reason and the events accepted now."""

from __future__ import annotations

import pytest
from workflow_kit import (
    ADULT_DOMESTIC,
    case_harness,
    quiet_history,
    recorded_events,
    send,
    settled,
    to_protection,
    to_rehabilitation,
)

from sinergi.cases import EventIdReused, EventRefused, NotAllowed, NotAParty
from sinergi.domain.ids import workflow_id
from sinergi.testing.cases import event
from sinergi.testing.waiting import eventually


async def test_refused_event_raises_with_its_reason_and_adds_nothing_to_history(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await settled(h, case_id)
        before_status = await h.cases.status(case_id)
        before_timeline = await h.cases.timeline(case_id)
        before = await quiet_history(h, case_id)

        with pytest.raises(EventRefused) as refused:
            await h.send(case_id, "repatriation.departed", port="KLIA")
        assert refused.value.reason == ("repatriation.departed refused: the case is in identification, "
                                        "not repatriation")
        assert "identification.screening_completed" in refused.value.accepted
        assert "repatriation.departed" not in refused.value.accepted
        assert refused.value.accepted == (await h.cases.why(case_id)).accepted_events

        for type_, data in [("protection.lpsk_decision", {"decision": "accepted"}),
                            ("rehabilitation.first_aid_provided", {}),
                            ("case.contact_restored", {}),
                            ("legal.restitution_paid", {})]:
            with pytest.raises(EventRefused):
                await h.send(case_id, type_, **data)

        assert await recorded_events(h, case_id) == before
        assert (await h.cases.timeline(case_id)).entries == before_timeline.entries
        after_status = await h.cases.status(case_id)
        assert after_status.model_dump(exclude={"accepted_events"}) == before_status.model_dump(
            exclude={"accepted_events"})


async def test_same_event_id_twice_is_applied_once(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        first = await send(h, case_id, "identification.screening_completed", event_id="bp3mi-2026-0001",
                           outcome="presumed_victim")
        assert (first.duplicate, first.stage) == (False, "protection")
        await settled(h, case_id)
        before = await quiet_history(h, case_id)
        referrals = len((await h.cases.status(case_id)).referrals)

        again = await send(h, case_id, "identification.screening_completed", event_id="bp3mi-2026-0001",
                           outcome="presumed_victim")
        assert again.duplicate is True and again.event_id == "bp3mi-2026-0001" and again.stage == "protection"
        # A redelivery need not be byte-identical (a retry with another timestamp); other content under the
        # same id is no redelivery: refused as a reused id, and nothing changes (SPEC "Authority").
        with pytest.raises(EventIdReused, match="other content"):
            await send(h, case_id, "identification.screening_completed", event_id="bp3mi-2026-0001",
                       outcome="not_victim")

        timeline = await h.cases.timeline(case_id)
        assert [e.ref for e in timeline.entries if e.kind == "event"].count("bp3mi-2026-0001") == 1
        st = await h.cases.status(case_id)
        assert len(st.referrals) == referrals and not st.closed
        assert await recorded_events(h, case_id) == before


async def test_duplicates_delivered_concurrently_are_applied_once(skipping_env):
    import asyncio

    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        outcomes = await asyncio.gather(*[
            send(h, case_id, "protection.lpsk_application_filed", event_id="lpsk-app-1") for _ in range(4)])
        assert sorted(o.duplicate for o in outcomes) == [False, True, True, True]
        st = await h.cases.status(case_id)
        assert len([c for c in st.clocks if c.id == "T3"]) == 1
        timeline = await h.cases.timeline(case_id)
        assert [e.ref for e in timeline.entries].count("lpsk-app-1") == 1


@pytest.mark.parametrize(("walk", "type_", "data", "reason"), [
    (None, "protection.safe_placement_confirmed", {}, "in identification, not protection"),
    (None, "rehabilitation.completed", {"needs_repatriation": False}, "not rehabilitation"),
    ("protection", "identification.screening_completed", {"outcome": "presumed_victim"},
     "in protection, not identification"),
    ("protection", "reintegration.plan_agreed", {}, "in protection, not reintegration"),
    ("rehabilitation", "repatriation.risk_assessed", {"safe": True}, "in rehabilitation, not repatriation"),
    ("rehabilitation", "rehabilitation.service_started", {"service": "health"}, "no requested service"),
])
async def test_event_for_another_stage_is_refused(skipping_env, walk, type_, data, reason):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        if walk == "protection":
            await to_protection(h, case_id)
        elif walk == "rehabilitation":
            await to_rehabilitation(h, case_id)
        stage = (await h.cases.status(case_id)).stage
        before = await quiet_history(h, case_id)
        with pytest.raises(EventRefused, match=reason) as refused:
            await h.send(case_id, type_, **data)
        assert refused.value.accepted and type_ not in refused.value.accepted
        assert await recorded_events(h, case_id) == before
        assert (await h.cases.status(case_id)).stage == stage


async def test_refused_event_id_can_be_used_again_once_it_fits(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        with pytest.raises(EventRefused):
            await send(h, case_id, "protection.safe_placement_confirmed", event_id="placement-1")
        await to_protection(h, case_id)
        outcome = await send(h, case_id, "protection.safe_placement_confirmed", event_id="placement-1")
        assert (outcome.duplicate, outcome.stage) == (False, "rehabilitation")


async def test_events_recorded_by_sinergi_itself_are_refused(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        before = await quiet_history(h, case_id)
        with pytest.raises(EventRefused, match="recorded by sinergi itself"):
            await h.send(case_id, "case.opened")
        assert await recorded_events(h, case_id) == before


async def test_service_start_for_a_service_never_requested_is_refused(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_rehabilitation(h, case_id)
        await h.send(case_id, "rehabilitation.request_filed", services=["social"], filed_by="police")
        with pytest.raises(EventRefused, match="service health is not requested"):
            await h.send(case_id, "rehabilitation.service_started", service="health")
        with pytest.raises(EventRefused, match="already requested: social"):
            await h.send(case_id, "rehabilitation.request_filed", services=["social", "health"],
                         filed_by="police")
        assert "health" not in {r.service for r in (await h.cases.status(case_id)).referrals}


async def test_closed_case_refuses_assistance_events_but_accepts_the_legal_track(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await h.send(case_id, "legal.investigation_opened")
        await settled(h, case_id)
        await h.send(case_id, "case.closed", reason="victim moved abroad")
        before = await quiet_history(h, case_id)
        with pytest.raises(EventRefused, match="the case is closed") as refused:
            await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")
        assert set(refused.value.accepted) == {"legal.judgment_final", "legal.restitution_paid",
                                               "legal.proceedings_ended", "case.data_breach_discovered"}
        assert await recorded_events(h, case_id) == before
        handle = h.client.get_workflow_handle(workflow_id(case_id))
        assert (await handle.describe()).run_id  # still running: the legal track is open
        await h.send(case_id, "legal.proceedings_ended")


async def test_a_duplicate_is_answered_from_the_refusal_itself_without_asking_the_case_again(skipping_env,
                                                                                              monkeypatch):
    # Under load every extra round trip through a worker counts: a retried event must not cost a query.
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await send(h, case_id, "identification.screening_completed", event_id="bp3mi-2026-0007",
                   outcome="presumed_victim")
        await settled(h, case_id)

        async def no_query(*_args, **_kwargs):
            raise AssertionError("a duplicate asked the case for its status")

        monkeypatch.setattr(h.cases, "status", no_query)
        again = await send(h, case_id, "identification.screening_completed", event_id="bp3mi-2026-0007",
                           outcome="presumed_victim")
        assert (again.duplicate, again.stage, again.case_id, again.event_id) == (
            True, "protection", case_id, "bp3mi-2026-0007")


async def test_the_case_refuses_an_office_that_takes_no_part_in_it_and_records_nothing(skipping_env):
    # The membership check is the case's own (its update validator): exact at the moment the event would
    # apply, ahead of every other answer, so an outsider learns neither a duplicate nor the stage.
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await send(h, case_id, "consent.recorded", event_id="evt-consent-0001", scope="services")
        st = await settled(h, case_id)
        offices = h.registry.offices
        stranger, in_province = offices["uptd_ppa_jatim"].sender, offices["uptd_ppa_kalsel"].sender
        referred = next(r.agency for r in st.referrals if r.agency in offices)
        assert referred not in ("uptd_ppa_kalsel", "uptd_ppa_jatim")
        before = await quiet_history(h, case_id)

        for built in (event(case_id, "consent.recorded", event_id="evt-consent-0001", scope="services"),
                      event(case_id, "repatriation.departed", port="KLIA"),
                      event(case_id, "consent.recorded", scope="services")):
            with pytest.raises(NotAParty, match=f"office uptd_ppa_jatim is not part of case {case_id}"):
                await h.cases.send(built, sender=stranger)
        assert await recorded_events(h, case_id) == before

        # Covering the case's province makes no office a party (SPEC "Authority").
        with pytest.raises(NotAParty, match="office uptd_ppa_kalsel is not part"):
            await h.cases.send(event(case_id, "consent.recorded", scope="services"), sender=in_province)
        lead = (await h.cases.why(case_id)).lead_office
        assert lead == "bp3mi_kalsel"
        assert not (await h.cases.send(event(case_id, "consent.recorded", scope="services"),
                                       sender=offices[lead].sender)).duplicate
        await send(h, case_id, "case.transferred", province="JATIM")
        # The lead moves to the new place's office of its kind; the old lead stays a party, not the lead.
        await eventually(lambda: _lead_is(h, case_id, "bp3mi_jatim"))
        with pytest.raises(NotAParty):
            await h.cases.send(event(case_id, "consent.recorded", scope="services"), sender=stranger)
        with pytest.raises(NotAllowed, match=r"lead office \(bp3mi_jatim\)"):
            await h.cases.send(event(case_id, "consent.recorded", scope="services"), sender=offices[lead].sender)
        assert not (await h.cases.send(event(case_id, "consent.recorded", scope="services"),
                                       sender=offices["bp3mi_jatim"].sender)).duplicate


async def _lead_is(h, case_id: str, office: str) -> None:
    assert (await h.cases.why(case_id)).lead_office == office
