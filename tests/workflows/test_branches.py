"""The branches of DOMAIN §3 every stage must handle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from workflow_kit import (
    ADULT_DOMESTIC,
    CHILD,
    advance,
    breaches,
    case_harness,
    clock,
    eventually,
    ladder,
    notices,
    offices_referred,
    referral,
    settled,
    to_protection,
    to_rehabilitation,
    to_reintegration_at_home,
    to_repatriation,
)

from sinergi.cases import EventRefused
from sinergi.testing.cases import SAMPLE_NAME, SAMPLE_PHONE

OPEN = ("pending", "held", "sent", "acknowledged", "accepted")


async def finished(h, case_id):
    async def check():
        assert not await h.cases.is_open(case_id)
    await eventually(check)


# --- child ----------------------------------------------------------------------------------------


@pytest.mark.branch("child")
async def test_child_victim_is_referred_to_uptd_ppa_at_once(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC, person={"date_of_birth": "2012-05-01"})
        st = await settled(h, case_id)
        assert st.is_child
        child = referral(st, "child_protection")
        assert (child.agency, child.status) == ("uptd_ppa_banjar", "sent")
        assert offices_referred(h, case_id, "child_protection") == ["uptd_ppa_banjar"]
        assert child.referral_id in {m.referral_id for m in h.ledger.received("uptd_ppa_banjar")}
        # A child's social rehabilitation goes to the integrated service unit for women and children.
        await to_rehabilitation(h, case_id)
        await h.send(case_id, "rehabilitation.request_filed", services=["social"], filed_by="companion")
        assert referral(await settled(h, case_id), "social").agency == "uptd_ppa_banjar"


@pytest.mark.branch("child")
async def test_person_of_unknown_age_is_treated_as_a_child(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC, person={"date_of_birth": None, "age_estimate": None})
        st = await settled(h, case_id)
        assert st.is_child and referral(st, "child_protection").agency == "uptd_ppa_banjar"


@pytest.mark.branch("child")
@pytest.mark.branch("abroad")
async def test_child_departs_only_after_a_best_interest_decision_with_a_confirmed_caregiver(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**CHILD)
        st = await settled(h, case_id)
        assert {r.service for r in st.referrals} == {"screening", "protection_abroad", "child_protection"}
        await to_repatriation(h, case_id)
        await h.send(case_id, "repatriation.risk_assessed", safe=True)
        await h.send(case_id, "repatriation.travel_document_issued")
        with pytest.raises(EventRefused, match="best-interest") as refused:
            await h.send(case_id, "repatriation.departed")
        assert "repatriation.best_interest_determined" in refused.value.accepted
        assert "repatriation.departed" not in refused.value.accepted

        await h.send(case_id, "repatriation.best_interest_determined", caregiver_confirmed=False,
                     return_in_best_interest=True)
        with pytest.raises(EventRefused, match="caregiver"):
            await h.send(case_id, "repatriation.departed")
        assert any("does not return" in e.text for e in (await h.cases.timeline(case_id)).entries)

        await h.send(case_id, "repatriation.best_interest_determined", caregiver_confirmed=True,
                     return_in_best_interest=True)
        outcome = await h.send(case_id, "repatriation.departed", port="KLIA")
        assert outcome.stage == "repatriation" and not outcome.duplicate


@pytest.mark.branch("child")
async def test_child_identity_never_appears_in_status_timeline_or_why(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**CHILD)
        await to_protection(h, case_id)
        await advance(skipping_env, days=4)  # warnings and escalations too
        views = [await h.cases.status(case_id), await h.cases.timeline(case_id), await h.cases.why(case_id)]
        for view in views:
            text = view.model_dump_json()
            assert SAMPLE_NAME not in text and SAMPLE_PHONE not in text and "2012-05-01" not in text
        for _, notice in h.ledger.notices_for_case(case_id):
            assert SAMPLE_NAME not in notice.model_dump_json()


async def test_best_interest_decision_is_refused_for_an_adult(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open()
        await to_repatriation(h, case_id)
        with pytest.raises(EventRefused, match="not a child"):
            await h.send(case_id, "repatriation.best_interest_determined", caregiver_confirmed=True,
                         return_in_best_interest=True)


# --- abroad / domestic ------------------------------------------------------------------------------


@pytest.mark.branch("abroad")
async def test_victim_abroad_starts_with_the_mission_and_needs_a_travel_document(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(situation={"location_country": "SA"})
        st = await settled(h, case_id)
        # No mission office covers Saudi Arabia in the sandbox: the ministry's desk does.
        assert referral(st, "protection_abroad").agency == "kemlu_pwni"
        await to_repatriation(h, case_id)
        await h.send(case_id, "repatriation.risk_assessed", safe=True)
        with pytest.raises(EventRefused, match="travel document"):
            await h.send(case_id, "repatriation.departed")


@pytest.mark.branch("domestic")
async def test_domestic_victim_gets_no_mission_referral(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        st = await to_protection(h, case_id)
        assert "abroad" not in st.flags
        assert referral(st, "shelter").agency == "uptd_ppa_banjar"
        assert not [r for r in st.referrals if r.kind == "kbri"]


# --- foreign national -----------------------------------------------------------------------------


@pytest.mark.branch("foreign_national")
async def test_foreign_national_is_handed_over_to_their_mission_and_the_case_ends(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC, person={"nationality": "VN"})
        st = await settled(h, case_id)
        assert "foreign_national" in st.flags
        assert referral(st, "foreign_victim").agency == "imigrasi_banjarmasin"

        await to_rehabilitation(h, case_id)
        # Even when nobody asks for it, a foreign national goes through repatriation to their mission.
        outcome = await h.send(case_id, "rehabilitation.completed", needs_repatriation=False)
        assert outcome.stage == "repatriation"
        st = await settled(h, case_id)
        assert referral(st, "handover_to_mission").agency == "imigrasi_banjarmasin"
        with pytest.raises(EventRefused, match="handed over"):
            await h.send(case_id, "repatriation.departed")
        with pytest.raises(EventRefused, match="risk assessment"):
            await h.send(case_id, "repatriation.handed_over", mission="Embassy of Viet Nam, Jakarta")

        await h.send(case_id, "repatriation.risk_assessed", safe=True)
        outcome = await h.send(case_id, "repatriation.handed_over", mission="Embassy of Viet Nam, Jakarta")
        assert outcome.stage == "closed"
        st = await h.cases.status(case_id)
        assert st.closed and "UU 21/2007 Art. 54(2)" in st.closure_reason
        assert not [r for r in st.referrals if r.status in OPEN]
        await finished(h, case_id)


async def test_indonesian_victim_cannot_be_handed_over_to_a_foreign_mission(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open()
        await to_repatriation(h, case_id)
        await h.send(case_id, "repatriation.risk_assessed", safe=True)
        with pytest.raises(EventRefused, match="Indonesian"):
            await h.send(case_id, "repatriation.handed_over", mission="Embassy of Malaysia")


# --- consent withdrawn ------------------------------------------------------------------------------


@pytest.mark.branch("consent_withdrawn")
async def test_withdrawn_data_sharing_consent_stops_every_delivery_and_restricts_what_was_shared(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        st = await to_protection(h, case_id)
        shared_with = sorted(set(offices_referred(h, case_id)))
        assert shared_with == ["bp3mi_kalsel", "polda_kalsel", "uptd_ppa_banjar"]
        before = len(h.ledger.for_case(case_id))

        await h.send(case_id, "consent.withdrawn", scope="data_sharing")
        st = await h.cases.status(case_id)
        assert st.consent.data_sharing is False
        assert {r.service: r.status for r in st.referrals} == {
            "screening": "completed", "shelter": "cancelled", "police_report": "cancelled"}
        assert [c for c in st.clocks if c.id == "S3" and c.state in ("running", "breached")] == []

        async def restricted():
            assert sorted(o for o, _ in notices(h, case_id, purpose="restriction")) == shared_with
        await eventually(restricted)

        # The case goes on, but nothing more leaves it.
        await h.send(case_id, "identification.police_report_filed", report_number="LP/77/2026")
        await h.send(case_id, "protection.shelter_admitted", facility="RPSA")
        await h.send(case_id, "protection.safe_placement_confirmed")
        await h.send(case_id, "rehabilitation.request_filed", services=["health"], filed_by="victim")
        st = await settled(h, case_id)
        assert {r.service: r.status for r in st.referrals if r.status == "held"} == {
            "legal_aid": "held", "health": "held"}
        await advance(skipping_env, hours=1)
        assert len(h.ledger.for_case(case_id)) == before
        assert any("consent" in w for w in (await h.cases.why(case_id)).waiting_on)

        # Re-contact: consent given again releases what was held, and only that.
        await h.send(case_id, "consent.recorded", scope="data_sharing")

        async def released():
            st = await h.cases.status(case_id)
            assert {r.service: r.status for r in st.referrals if r.service in ("legal_aid", "health")} == {
                "legal_aid": "sent", "health": "sent"}
        await eventually(released)
        assert len(h.ledger.for_case(case_id)) == before + 2


@pytest.mark.branch("consent_withdrawn")
@pytest.mark.rule("T11")
async def test_mandated_police_referral_in_a_sexual_exploitation_case_goes_despite_withdrawn_consent(
        skipping_env):
    async with case_harness(skipping_env) as h:
        h.ledger.down.add("polda_kalsel")
        case_id = await h.open(**ADULT_DOMESTIC, flags={"sexual_exploitation": True})
        await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")

        async def shelter_sent():
            st = await h.cases.status(case_id)
            assert referral(st, "shelter").status == "sent"
            return st
        st = await eventually(shelter_sent)
        police = referral(st, "police_report")
        assert police.status == "pending" and police.mandated_by == "UU 12/2022 Art. 41"

        await h.send(case_id, "consent.withdrawn", scope="data_sharing")
        await h.send(case_id, "consent.withdrawn", scope="services")
        await h.send(case_id, "consent.withdrawn", scope="legal")
        st = await h.cases.status(case_id)
        assert referral(st, "shelter").status == "cancelled"
        assert referral(st, "police_report").status == "pending"
        assert any("UU 21/2007 Art. 26" in e.text for e in (await h.cases.timeline(case_id)).entries)

        h.ledger.down.discard("polda_kalsel")
        await advance(skipping_env, minutes=6)

        async def police_sent():
            st = await h.cases.status(case_id)
            assert referral(st, "police_report").status == "sent"
            return st
        st = await eventually(police_sent)
        [(office, message)] = [(o, m) for o, m in h.ledger.for_case(case_id) if m.service == "police_report"]
        assert office == "polda_kalsel" and message.mandated_by == "UU 12/2022 Art. 41"
        assert [d.mandated_by for d in st.deliveries if d.office == "polda_kalsel"] == ["UU 12/2022 Art. 41"]
        # Only the offices that received data without a mandate are told to restrict it. (Whether the
        # screening reached bp3mi before the outcome was entered is a race; the rule holds either way.)
        unmandated = {d.office for d in st.deliveries if not d.mandated_by}
        assert "uptd_ppa_banjar" in unmandated and "polda_kalsel" not in unmandated
        assert {o for o, _ in notices(h, case_id, purpose="restriction")} == unmandated
        assert set(offices_referred(h, case_id)) == unmandated | {"polda_kalsel"}


@pytest.mark.branch("consent_withdrawn")
async def test_withdrawn_consent_to_services_pauses_the_victim_dependent_clocks(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        await h.send(case_id, "consent.withdrawn", scope="services")
        st = await h.cases.status(case_id)
        assert clock(st, "S2").state == "paused" and "paused:consent_withdrawn" in st.flags
        assert clock(st, "T17").state == "running"  # the reflection period is not the victim's to keep
        await advance(skipping_env, days=2)
        assert breaches(await h.cases.status(case_id), "S2") == []
        await h.send(case_id, "consent.recorded", scope="services")
        assert clock(await h.cases.status(case_id), "S2").state == "running"


# --- unsafe return ----------------------------------------------------------------------------------


@pytest.mark.branch("unsafe_return")
async def test_unsafe_return_cancels_repatriation_referrals_and_moves_to_local_reintegration(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open()
        st = await to_repatriation(h, case_id)
        repatriation = {r.referral_id for r in st.referrals
                        if r.service in ("travel_document_and_return", "port_reception", "onward_travel")}
        assert len(repatriation) == 3

        outcome = await h.send(case_id, "repatriation.risk_assessed", safe=False)
        assert outcome.stage == "reintegration"
        st = await settled(h, case_id)
        assert {r.status for r in st.referrals if r.referral_id in repatriation} == {"cancelled"}
        assert "return_unsafe" in st.flags
        assert referral(st, "family_reintegration").status == "sent"
        assert any("return assessed unsafe" in e.text for e in (await h.cases.timeline(case_id)).entries)
        with pytest.raises(EventRefused, match="reintegration, not repatriation"):
            await h.send(case_id, "repatriation.departed")
        # The cancelled referrals' deadlines never fire.
        await advance(skipping_env, days=2)
        st = await h.cases.status(case_id)
        assert [b for b in st.breaches if b.context in repatriation] == []


# --- contact lost -------------------------------------------------------------------------------------


@pytest.mark.branch("contact_lost")
@pytest.mark.rule("S2")
async def test_lost_contact_pauses_victim_dependent_clocks_and_extends_them_by_the_time_lost(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        due = clock(await h.cases.status(case_id), "S2").due_at
        t17_due = clock(await h.cases.status(case_id), "T17").due_at
        await advance(skipping_env, hours=10)

        await h.send(case_id, "case.contact_lost")
        st = await h.cases.status(case_id)
        assert clock(st, "S2").state == "paused" and "paused:contact_lost" in st.flags
        assert clock(st, "T17").state == "running"
        assert any("paused: contact_lost" in w for w in (await h.cases.why(case_id)).waiting_on)

        async def searching():
            assert [o for o, _ in notices(h, case_id, purpose="contact_search")] == ["gugus_tugas_banjar"]
        await eventually(searching)
        assert [(e.clock, e.agency) for e in (await h.cases.status(case_id)).escalations] == [
            ("contact_lost", "gugus_tugas")]

        await advance(skipping_env, days=2)  # well past S2's original due time
        assert breaches(await h.cases.status(case_id), "S2") == []
        await h.send(case_id, "case.contact_restored")
        st = await h.cases.status(case_id)
        s2 = clock(st, "S2")
        assert s2.state == "running"
        assert abs(s2.due_at - (due + timedelta(days=2))) < timedelta(seconds=30)
        assert clock(st, "T17").due_at == t17_due

        await advance(skipping_env, hours=13)
        assert breaches(await h.cases.status(case_id), "S2") == []
        await advance(skipping_env, hours=1, minutes=1)
        assert [b.kind for b in breaches(await h.cases.status(case_id), "S2")] == ["warning"]


@pytest.mark.branch("contact_lost")
async def test_contact_lost_escalates_each_failed_attempt_and_closes_after_the_last(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        await h.send(case_id, "case.contact_lost")
        await advance(skipping_env, hours=72, minutes=1)
        st = await h.cases.status(case_id)
        assert not st.closed
        assert [e.rung for e in st.escalations if e.clock == "contact_lost"] == [1, 2]
        await advance(skipping_env, hours=72)
        assert not (await h.cases.status(case_id)).closed
        await advance(skipping_env, hours=72)
        st = await h.cases.status(case_id)
        assert st.closed and st.closure_reason.startswith("contact lost after 3 attempts")
        timeline = [e.text for e in (await h.cases.timeline(case_id)).entries]
        assert [t for t in timeline if t.startswith("contact attempt")] == [
            "contact attempt 1 of 3 failed", "contact attempt 2 of 3 failed", "contact attempt 3 of 3 failed"]

        async def searched():
            offices = [o for o, _ in notices(h, case_id, purpose="contact_search")]
            assert offices == ["gugus_tugas_banjar", "gugus_tugas_kalsel"] or sorted(offices) == [
                "gugus_tugas_banjar", "gugus_tugas_kalsel", "gugus_tugas_kalsel"]
        await eventually(searched)
        await finished(h, case_id)


@pytest.mark.branch("contact_lost")
async def test_contact_restored_before_the_first_attempt_keeps_the_case_open(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await h.send(case_id, "case.contact_lost")
        await advance(skipping_env, hours=48)
        await h.send(case_id, "case.contact_restored")
        await advance(skipping_env, days=12)
        st = await h.cases.status(case_id)
        assert not st.closed and "paused:contact_lost" not in st.flags
        assert not any(e.text.startswith("contact attempt") for e in (await h.cases.timeline(case_id)).entries)
        with pytest.raises(EventRefused, match="not lost"):
            await h.send(case_id, "case.contact_restored")


# --- death ----------------------------------------------------------------------------------------


@pytest.mark.branch("death")
@pytest.mark.branch("legal_track")
@pytest.mark.rule("T6")
async def test_death_closes_assistance_while_the_legal_track_and_restitution_clock_go_on(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        await h.send(case_id, "legal.investigation_opened")
        await h.send(case_id, "legal.judgment_final")
        await h.send(case_id, "case.victim_deceased")
        st = await h.cases.status(case_id)
        assert st.closed and st.closure_reason == "victim deceased"
        assert "legal_track_open" in st.flags
        assert clock(st, "T6").state == "running"
        assert {c.state for c in st.clocks if c.id != "T6"} <= {"stopped", "cancelled"}
        assert not [r for r in st.referrals if r.status in OPEN]
        assert any("heirs keep restitution rights" in e.text for e in (await h.cases.timeline(case_id)).entries)
        assert await h.cases.is_open(case_id)
        with pytest.raises(EventRefused, match="closed"):
            await h.send(case_id, "protection.safe_placement_confirmed")

        await advance(skipping_env, days=30, minutes=1)
        st = await h.cases.status(case_id)
        assert [b.kind for b in breaches(st, "T6")] == ["breach"]
        assert ladder(st, "T6") == [(1, "lpsk", "unit head")]

        await h.send(case_id, "legal.restitution_paid")
        st = await h.cases.status(case_id)
        assert clock(st, "T6").state == "stopped" and "legal_track_open" not in st.flags
        await finished(h, case_id)


@pytest.mark.branch("death")
async def test_death_without_a_legal_track_ends_the_case_workflow(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        outcome = await h.send(case_id, "case.victim_deceased")
        assert outcome.stage == "closed"
        await finished(h, case_id)


# --- crisis at follow-up ------------------------------------------------------------------------------


@pytest.mark.branch("crisis_reopens_protection")
@pytest.mark.rule("S2")
@pytest.mark.rule("T23")
async def test_crisis_at_follow_up_reopens_protection_with_one_new_shelter_referral(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        st = await to_reintegration_at_home(h, case_id)
        shelters_before = [r.referral_id for r in st.referrals if r.service == "shelter"]
        await h.send(case_id, "reintegration.plan_agreed")
        await advance(skipping_env, days=20)

        outcome = await h.send(case_id, "reintegration.followup_completed", wellbeing="crisis")
        assert outcome.stage == "protection"
        st = await settled(h, case_id)
        assert "retrafficking_risk" in st.flags
        new = [r for r in st.referrals if r.service == "shelter" and r.referral_id not in shelters_before]
        assert [(r.agency, r.status) for r in new] == [("uptd_ppa_banjar", "sent")]
        s2 = [c for c in st.clocks if c.id == "S2"]
        assert [c.state for c in s2] == ["stopped", "running"]
        assert s2[1].due_at - s2[1].started_at == timedelta(hours=24)
        assert sorted(c.state for c in st.clocks if c.id == "T23") == ["cancelled", "cancelled", "cancelled",
                                                                       "stopped"]
        assert any("crisis at follow-up" in e.text for e in (await h.cases.timeline(case_id)).entries)

        await advance(skipping_env, hours=24, minutes=1)
        st = await h.cases.status(case_id)
        assert [b.kind for b in breaches(st, "S2")] == ["warning"]
        assert breaches(st, "T23") == []
        # Protection runs its course again.
        await h.send(case_id, "protection.shelter_admitted", facility="RPSA")
        outcome = await h.send(case_id, "protection.safe_placement_confirmed")
        assert outcome.stage == "rehabilitation"


# --- transfer -------------------------------------------------------------------------------------


@pytest.mark.branch("transfer")
@pytest.mark.rule("S3")
async def test_transfer_cancels_open_referrals_and_resends_them_to_the_new_provinces_offices(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        st = await to_protection(h, case_id)
        old = {r.referral_id: r.agency for r in st.referrals if r.status in OPEN}
        assert sorted(old.values()) == ["polda_kalsel", "uptd_ppa_banjar"]  # screening is done: it stays

        await h.send(case_id, "case.transferred", province="JATIM", regency="Kota Surabaya")
        st = await settled(h, case_id)
        assert (st.province, st.regency) == ("JATIM", "35.78")  # Kota Surabaya, by code (SPEC "Places")
        assert {r.status for r in st.referrals if r.referral_id in old} == {"cancelled"}
        new = {r.service: r.agency for r in st.referrals if r.referral_id not in old and r.status in OPEN}
        assert new == {"shelter": "uptd_ppa_jatim", "police_report": "polda_jatim"}
        assert sorted(o for o in offices_referred(h, case_id) if o.endswith("_jatim")) == [
            "polda_jatim", "uptd_ppa_jatim"]
        assert any("transferred from KALSEL/63.03 to JATIM/35.78" in e.text
                   for e in (await h.cases.timeline(case_id)).entries)

        await h.send(case_id, "protection.shelter_admitted", facility="UPT PPSW Sidoarjo")
        await advance(skipping_env, hours=24, minutes=1)
        st = await h.cases.status(case_id)
        # Only the new referrals' acknowledgements are late; the cancelled ones' deadlines never fire.
        assert sorted(b.context for b in breaches(st, "S3")) == sorted(
            r.referral_id for r in st.referrals if r.referral_id not in old and r.status in OPEN)

        async def escalated_in_jatim():
            offices = {o for o, _ in notices(h, case_id, purpose="escalation", clock_id="S3")}
            assert offices == {"uptd_ppa_jatim", "polda_jatim"}
        await eventually(escalated_in_jatim)

        with pytest.raises(EventRefused, match="already in JATIM"):
            await h.send(case_id, "case.transferred", province="JATIM", regency="Kota Surabaya")


# --- legal track ----------------------------------------------------------------------------------


@pytest.mark.branch("legal_track")
@pytest.mark.rule("T6")
async def test_legal_track_judgment_starts_restitution_clock_and_payment_stops_it(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        with pytest.raises(EventRefused, match="no legal track is open"):
            await h.send(case_id, "legal.judgment_final")
        await h.send(case_id, "legal.investigation_opened")
        assert "legal_track_open" in (await h.cases.status(case_id)).flags
        with pytest.raises(EventRefused, match="already open"):
            await h.send(case_id, "legal.investigation_opened")
        await h.send(case_id, "legal.judgment_final")
        t6 = clock(await h.cases.status(case_id), "T6")
        assert t6.state == "running" and t6.source == "PERMA 1/2022 Art. 30(5)"
        await advance(skipping_env, days=25)
        await h.send(case_id, "legal.restitution_paid")
        await advance(skipping_env, days=10)
        st = await h.cases.status(case_id)
        assert clock(st, "T6").state == "stopped" and breaches(st, "T6") == []


@pytest.mark.branch("legal_track")
async def test_case_workflow_stays_open_after_closure_while_the_legal_track_is_open(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        await h.send(case_id, "legal.investigation_opened")
        await h.send(case_id, "case.closed", reason="victim returned to work abroad")
        st = await h.cases.status(case_id)
        assert st.closed and st.stage == "closed"
        assert not [c for c in st.clocks if c.state in ("running", "paused", "breached")]
        await advance(skipping_env, days=60)
        assert await h.cases.is_open(case_id)
        why = await h.cases.why(case_id)
        assert why.closed and set(why.accepted_events) >= {"legal.judgment_final", "legal.proceedings_ended"}
        assert "protection.shelter_admitted" not in why.accepted_events

        await h.send(case_id, "legal.judgment_final")
        assert clock(await h.cases.status(case_id), "T6").state == "running"
        await h.send(case_id, "legal.proceedings_ended")
        st = await h.cases.status(case_id)
        assert clock(st, "T6").state == "stopped"
        await finished(h, case_id)
