"""The five stages of DOMAIN §3, walked end to end on the time-skipping server."""

from __future__ import annotations

import pytest
from workflow_kit import (
    ADULT_DOMESTIC,
    advance,
    breaches,
    case_harness,
    clock,
    eventually,
    offices_referred,
    referral,
    settled,
    to_rehabilitation,
)


def stages_in(timeline) -> list[str]:
    return [e.text for e in timeline.entries if e.kind == "stage"]


async def wait_closed_and_finished(h, case_id):
    async def check():
        assert not await h.cases.is_open(case_id)

    await eventually(check)


@pytest.mark.branch("abroad")
async def test_abroad_pmi_walks_all_five_stages_to_closed(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open()
        st = await settled(h, case_id)
        assert st.stage == "identification"
        assert referral(st, "protection_abroad").agency == "kbri_kuala_lumpur"

        st = await to_rehabilitation(h, case_id)
        assert st.stage == "rehabilitation"
        assert referral(st, "shelter").agency == "kbri_kuala_lumpur"
        assert referral(st, "police_report").agency == "polda_kalsel"
        assert referral(st, "legal_aid").agency == "ngo_kalsel"

        await h.send(case_id, "rehabilitation.request_filed", services=["health", "social"], filed_by="social_worker")
        await h.send(case_id, "rehabilitation.service_started", service="health")
        await h.send(case_id, "rehabilitation.service_started", service="social")
        await h.send(case_id, "rehabilitation.service_completed", service="health")
        st = await settled(h, case_id)
        assert referral(st, "health").agency == "dinkes_kalsel"
        assert referral(st, "social").agency == "dinsos_kalsel"
        assert {clock(st, "T1", s).state for s in ("health", "social")} == {"stopped"}

        await h.send(case_id, "rehabilitation.completed", return_to="Kabupaten Banjar", needs_repatriation=True)
        st = await settled(h, case_id)
        assert st.stage == "repatriation"
        assert referral(st, "travel_document_and_return").agency == "kbri_kuala_lumpur"
        assert referral(st, "port_reception").agency == "bp3mi_kalsel"
        assert referral(st, "onward_travel").agency == "dinsos_kalsel"

        await h.send(case_id, "repatriation.risk_assessed", safe=True)
        await h.send(case_id, "repatriation.travel_document_issued")
        await h.send(case_id, "repatriation.departed", port="KLIA")
        await h.send(case_id, "repatriation.arrived_port_of_entry", port="Bandara Syamsudin Noor")
        outcome = await h.send(case_id, "repatriation.arrived_home", regency="Kabupaten Banjar")
        assert outcome.stage == "reintegration"
        st = await settled(h, case_id)
        assert referral(st, "family_reintegration").agency == "dinsos_kalsel"
        assert referral(st, "rights_and_empowerment").agency == "bp3mi_kalsel"

        await h.send(case_id, "reintegration.plan_agreed")
        await h.send(case_id, "reintegration.followup_completed", wellbeing="stable")
        await h.send(case_id, "reintegration.rights_settled")
        outcome = await h.send(case_id, "reintegration.completed")
        assert outcome.stage == "closed"

        st = await h.cases.status(case_id)
        assert st.closed and st.closure_reason == "reintegration completed"
        assert not [r for r in st.referrals if r.status in ("pending", "held", "sent", "acknowledged", "accepted")]
        assert not [c for c in st.clocks if c.state in ("running", "paused", "breached")]
        assert stages_in(await h.cases.timeline(case_id)) == [
            "stage: protection", "stage: rehabilitation", "stage: repatriation", "stage: reintegration",
            "closed: reintegration completed"]
        assert sorted(set(offices_referred(h, case_id))) == [
            "bp3mi_kalsel", "dinkes_kalsel", "dinsos_kalsel", "kbri_kuala_lumpur", "ngo_kalsel", "polda_kalsel"]
        await wait_closed_and_finished(h, case_id)
        assert (await h.cases.status(case_id)).closed  # a finished case still answers queries


@pytest.mark.branch("domestic")
async def test_domestic_case_skips_repatriation_and_closes_after_reintegration(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        st = await settled(h, case_id)
        # Nobody abroad, no child, no sexual exploitation: only the screening, back to the first-contact agency.
        assert [(r.service, r.agency) for r in st.referrals] == [("screening", "bp3mi_kalsel")]

        st = await to_rehabilitation(h, case_id)
        assert referral(st, "shelter").agency == "uptd_ppa_banjar"
        outcome = await h.send(case_id, "rehabilitation.completed", return_to="Kabupaten Banjar",
                               needs_repatriation=False)
        assert outcome.stage == "reintegration"
        st = await settled(h, case_id)
        assert referral(st, "family_reintegration").agency == "dinsos_kalsel"
        assert not [r for r in st.referrals if r.service == "rights_and_empowerment"]  # not a PMI

        await h.send(case_id, "reintegration.plan_agreed")
        await h.send(case_id, "reintegration.followup_completed", wellbeing="at_risk")
        await h.send(case_id, "reintegration.completed")
        stages = stages_in(await h.cases.timeline(case_id))
        assert "the victim is already home: repatriation skipped" in stages
        assert "stage: repatriation" not in stages
        assert stages[-1] == "closed: reintegration completed"
        assert "kbri_kuala_lumpur" not in offices_referred(h, case_id)
        await wait_closed_and_finished(h, case_id)


@pytest.mark.branch("domestic")
async def test_victim_in_another_province_returns_within_indonesia(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_rehabilitation(h, case_id)
        outcome = await h.send(case_id, "rehabilitation.completed", return_to="Kabupaten Banjar",
                               needs_repatriation=True)
        assert outcome.stage == "repatriation"
        st = await settled(h, case_id)
        assert referral(st, "domestic_return").agency == "dinsos_kalsel"
        assert not [r for r in st.referrals if r.service == "travel_document_and_return"]
        await h.send(case_id, "repatriation.risk_assessed", safe=True)
        # No travel document is needed inside Indonesia.
        await h.send(case_id, "repatriation.departed")
        outcome = await h.send(case_id, "repatriation.arrived_home", regency="Kabupaten Banjar")
        assert outcome.stage == "reintegration"


async def test_not_a_victim_screening_closes_the_case(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await settled(h, case_id)
        outcome = await h.send(case_id, "identification.screening_completed", outcome="not_victim",
                               referred_elsewhere="Disnaker")
        assert outcome.stage == "closed"
        st = await h.cases.status(case_id)
        assert st.closed and "not a victim" in st.closure_reason and "Disnaker" in st.closure_reason
        assert clock(st, "S1").state == "stopped"
        await wait_closed_and_finished(h, case_id)


@pytest.mark.rule("S1")
async def test_screening_needing_more_information_stays_in_identification_with_a_new_deadline(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        first = clock(await h.cases.status(case_id), "S1")
        await advance(skipping_env, days=2)
        outcome = await h.send(case_id, "identification.screening_completed", outcome="needs_more_info")
        assert outcome.stage == "identification"
        st = await h.cases.status(case_id)
        s1 = [c for c in st.clocks if c.id == "S1"]
        assert [c.state for c in s1] == ["stopped", "running"]
        assert s1[1].due_at > first.due_at
        # The first deadline passes without a warning: the extended one counts.
        await advance(skipping_env, days=2)
        st = await h.cases.status(case_id)
        assert breaches(st, "S1") == [] and st.stage == "identification"
        await advance(skipping_env, days=1, minutes=1)
        st = await h.cases.status(case_id)
        assert [(b.clock, b.kind) for b in breaches(st, "S1")] == [("S1", "warning")]
