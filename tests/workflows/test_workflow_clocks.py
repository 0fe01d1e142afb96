"""Every clock of DOMAIN §4: it starts on its trigger, stops on its stop event, and when missed records a
breach (statutory) or a warning (operational) citing its source, then walks its escalation ladder rung
by rung, each rung after its own wait."""

from __future__ import annotations

from datetime import timedelta

import pytest
from workflow_kit import (
    ADULT_DOMESTIC,
    advance,
    breaches,
    case_harness,
    clock,
    ladder,
    now,
    settled,
    to_protection,
    to_rehabilitation,
    to_reintegration_at_home,
    wait_for_notices,
)

from sinergi.cases import EventRefused
from sinergi.domain.durations import province_zone
from sinergi.domain.policy import WorkingDays
from sinergi.policies import load_policy

ART_52 = "UU 21/2007 Art. 52(1)"
SEXUAL_EXPLOITATION = {**ADULT_DOMESTIC, "flags": {"sexual_exploitation": True}}


async def rehabilitation_requested(h, services=("social",)):
    case_id = await h.open(**ADULT_DOMESTIC)
    await to_rehabilitation(h, case_id)
    await h.send(case_id, "rehabilitation.request_filed", services=list(services), filed_by="victim")
    await settled(h, case_id)
    return case_id


# --- T1: UU 21/2007 Art. 52(1) --------------------------------------------------------------------


@pytest.mark.rule("T1")
async def test_missed_art52_deadline_records_a_breach_and_walks_the_ladder_rung_by_rung(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await rehabilitation_requested(h)
        t1 = clock(await h.cases.status(case_id), "T1", "social")
        assert t1.state == "running" and t1.source == ART_52
        assert t1.due_at - t1.started_at == timedelta(days=7)

        await advance(skipping_env, days=7, minutes=-1)
        st = await h.cases.status(case_id)
        assert breaches(st, "T1") == [] and ladder(st, "T1") == []

        await advance(skipping_env, minutes=2)
        st = await h.cases.status(case_id)
        [breach] = breaches(st, "T1")
        assert (breach.kind, breach.source, breach.context) == ("breach", ART_52, "social")
        assert clock(st, "T1", "social").state == "breached"
        # The first rung at once: the head of the unit serving social rehabilitation.
        assert ladder(st, "T1") == [(1, "dinsos", "unit head")]
        assert await wait_for_notices(h, case_id, "T1", 1) == [(1, "dinsos_kalsel")]
        assert any(e.kind == "breach" and ART_52 in e.text for e in (await h.cases.timeline(case_id)).entries)

        await advance(skipping_env, hours=23)
        assert len(ladder(await h.cases.status(case_id), "T1")) == 1
        await advance(skipping_env, hours=1, minutes=2)
        assert ladder(await h.cases.status(case_id), "T1")[1] == (2, "dinsos", "parent office head")

        await advance(skipping_env, hours=47)
        assert len(ladder(await h.cases.status(case_id), "T1")) == 2
        await advance(skipping_env, hours=1, minutes=2)
        assert ladder(await h.cases.status(case_id), "T1")[2] == (3, "gugus_tugas", "regency task force")

        await advance(skipping_env, hours=71)
        assert len(ladder(await h.cases.status(case_id), "T1")) == 3
        await advance(skipping_env, hours=1, minutes=2)
        st = await h.cases.status(case_id)
        assert ladder(st, "T1")[3] == (4, "gugus_tugas", "province task force")
        assert all(e.source == ART_52 for e in st.escalations if e.clock == "T1")
        assert await wait_for_notices(h, case_id, "T1", 4) == [
            (1, "dinsos_kalsel"), (2, "dinsos_kalsel"), (3, "gugus_tugas_banjar"), (4, "gugus_tugas_kalsel")]

        # The ladder has four rungs: nothing more, however long the case waits.
        await advance(skipping_env, days=20)
        st = await h.cases.status(case_id)
        assert len(ladder(st, "T1")) == 4 and len(breaches(st, "T1")) == 1


@pytest.mark.rule("T1")
async def test_service_started_on_day_six_records_no_art52_breach(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await rehabilitation_requested(h, services=("health", "social"))
        await advance(skipping_env, days=6)
        await h.send(case_id, "rehabilitation.service_started", service="social")
        await h.send(case_id, "rehabilitation.service_started", service="health")
        await advance(skipping_env, days=10)
        st = await h.cases.status(case_id)
        assert clock(st, "T1", "social").state == "stopped"
        assert clock(st, "T1", "health").state == "stopped"
        assert breaches(st, "T1") == [] and ladder(st, "T1") == []


@pytest.mark.rule("T1")
async def test_each_requested_service_has_its_own_art52_clock(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await rehabilitation_requested(h, services=("health", "social"))
        await advance(skipping_env, days=3)
        await h.send(case_id, "rehabilitation.service_started", service="health")
        await advance(skipping_env, days=4, minutes=1)
        st = await h.cases.status(case_id)
        assert [(b.clock, b.context) for b in breaches(st, "T1")] == [("T1", "social")]
        # Health is served by the health office: its clock stopped, its unit is not escalated.
        assert ladder(st, "T1") == [(1, "dinsos", "unit head")]


@pytest.mark.rule("T1")
async def test_service_started_after_the_breach_stops_the_ladder(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await rehabilitation_requested(h)
        await advance(skipping_env, days=7, hours=2)
        assert len(ladder(await h.cases.status(case_id), "T1")) == 1
        await h.send(case_id, "rehabilitation.service_started", service="social")
        await advance(skipping_env, days=10)
        st = await h.cases.status(case_id)
        assert clock(st, "T1", "social").state == "stopped"
        assert len(breaches(st, "T1")) == 1 and len(ladder(st, "T1")) == 1


@pytest.mark.rule("T1")
async def test_art51_request_without_a_police_report_is_refused(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        await h.send(case_id, "protection.safe_placement_confirmed")
        with pytest.raises(EventRefused, match="police report"):
            await h.send(case_id, "rehabilitation.request_filed", services=["social"], filed_by="family")
        assert [c for c in (await h.cases.status(case_id)).clocks if c.id == "T1"] == []


# --- T2: UU 21/2007 Art. 53 ------------------------------------------------------------------------


@pytest.mark.rule("T2")
async def test_urgent_first_aid_not_given_within_seven_days_is_an_art53_breach(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC, flags={"urgent_medical": True})
        st = await settled(h, case_id)
        assert clock(st, "T2").state == "running"
        assert [r.agency for r in st.referrals if r.service == "urgent_first_aid"] == ["dinkes_kalsel"]
        await advance(skipping_env, days=7, minutes=1)
        st = await h.cases.status(case_id)
        [breach] = breaches(st, "T2")
        assert (breach.kind, breach.source) == ("breach", "UU 21/2007 Art. 53")
        assert ladder(st, "T2") == [(1, "dinkes", "unit head")]
        await advance(skipping_env, days=1)
        assert ladder(await h.cases.status(case_id), "T2")[1] == (2, "dinkes", "parent office head")
        assert await wait_for_notices(h, case_id, "T2", 2) == [(1, "dinkes_kalsel"), (2, "dinkes_kalsel")]


@pytest.mark.rule("T2")
async def test_first_aid_given_in_time_stops_the_art53_clock(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await rehabilitation_requested(h)
        await h.send(case_id, "rehabilitation.service_started", service="social")
        await h.send(case_id, "rehabilitation.first_aid_requested")
        assert clock(await h.cases.status(case_id), "T2").state == "running"
        await advance(skipping_env, days=5)
        await h.send(case_id, "rehabilitation.first_aid_provided")
        await advance(skipping_env, days=5)
        st = await h.cases.status(case_id)
        assert clock(st, "T2").state == "stopped" and breaches(st, "T2") == []


# --- T3 / T4: LPSK decision -------------------------------------------------------------------------


@pytest.mark.rule("T3")
@pytest.mark.rule("T4")
async def test_lpsk_decision_on_day_eight_breaches_the_statute_but_meets_practice(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        await h.send(case_id, "protection.lpsk_application_filed")
        st = await h.cases.status(case_id)
        assert clock(st, "T3").due_at - clock(st, "T3").started_at == timedelta(days=7)
        assert clock(st, "T4").due_at - clock(st, "T4").started_at == timedelta(days=30)
        await advance(skipping_env, days=7, hours=12)
        st = await h.cases.status(case_id)
        [breach] = breaches(st, "T3")
        assert (breach.kind, breach.source) == ("breach", "UU 13/2006 Art. 29 (am. UU 31/2014)")
        assert ladder(st, "T3") == [(1, "lpsk", "unit head")]
        assert await wait_for_notices(h, case_id, "T3", 1) == [(1, "lpsk")]

        await h.send(case_id, "protection.lpsk_decision", decision="accepted")
        await advance(skipping_env, days=30)
        st = await h.cases.status(case_id)
        assert clock(st, "T3").state == "stopped" and len(ladder(st, "T3")) == 1
        assert clock(st, "T4").state == "stopped" and breaches(st, "T4") == []


@pytest.mark.rule("T4")
async def test_lpsk_silent_for_thirty_days_is_a_practice_warning_not_a_breach(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        await h.send(case_id, "protection.lpsk_application_filed")
        await advance(skipping_env, days=30, minutes=1)
        st = await h.cases.status(case_id)
        [warning] = breaches(st, "T4")
        assert (warning.kind, warning.source) == ("warning", "LPSK statements")
        assert ladder(st, "T4") == [(1, "lpsk", "unit head")]
        await advance(skipping_env, days=7)
        assert ladder(await h.cases.status(case_id), "T4")[1] == (2, "gugus_tugas", "province task force")
        assert await wait_for_notices(h, case_id, "T4", 2) == [(1, "lpsk"), (2, "gugus_tugas_kalsel")]


# --- T11 / T12: UU 12/2022 (sexual violence) --------------------------------------------------------


@pytest.mark.rule("T11")
async def test_sexual_exploitation_not_reported_to_police_within_72h_breaches_art41(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**SEXUAL_EXPLOITATION)
        st = await h.cases.status(case_id)
        assert clock(st, "T11").due_at - clock(st, "T11").started_at == timedelta(hours=72)
        await advance(skipping_env, hours=71)
        assert breaches(await h.cases.status(case_id), "T11") == []
        await advance(skipping_env, hours=1, minutes=1)
        st = await h.cases.status(case_id)
        [breach] = breaches(st, "T11")
        assert (breach.kind, breach.source) == ("breach", "UU 12/2022 Art. 41")
        assert ladder(st, "T11") == [(1, "uptd_ppa", "unit head")]
        assert await wait_for_notices(h, case_id, "T11", 1) == [(1, "uptd_ppa_banjar")]


@pytest.mark.rule("T11")
@pytest.mark.rule("T12")
async def test_police_report_stops_art41_and_starts_the_24h_protection_clock(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**SEXUAL_EXPLOITATION)
        await advance(skipping_env, hours=30)
        await h.send(case_id, "identification.police_report_filed", report_number="LP/9/2026")
        st = await h.cases.status(case_id)
        assert clock(st, "T11").state == "stopped"
        t12 = clock(st, "T12")
        assert t12.state == "running" and t12.due_at - t12.started_at == timedelta(hours=24)
        await advance(skipping_env, hours=20)
        await h.send(case_id, "protection.police_protection_granted")
        await advance(skipping_env, days=5)
        st = await h.cases.status(case_id)
        assert clock(st, "T12").state == "stopped"
        assert breaches(st, "T11") == [] and breaches(st, "T12") == []


@pytest.mark.rule("T12")
async def test_police_protection_not_granted_within_24h_breaches_art42_and_climbs(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**SEXUAL_EXPLOITATION)
        await h.send(case_id, "identification.police_report_filed", report_number="LP/10/2026")
        await advance(skipping_env, hours=24, minutes=1)
        st = await h.cases.status(case_id)
        [breach] = breaches(st, "T12")
        assert (breach.kind, breach.source) == ("breach", "UU 12/2022 Art. 42(1)")
        assert ladder(st, "T12") == [(1, "polri", "unit head")]
        await advance(skipping_env, hours=11)
        assert len(ladder(await h.cases.status(case_id), "T12")) == 1
        await advance(skipping_env, hours=1)
        assert ladder(await h.cases.status(case_id), "T12")[1] == (2, "polri", "parent office head")
        assert await wait_for_notices(h, case_id, "T12", 2) == [(1, "polda_kalsel"), (2, "polda_kalsel")]


# --- T6: PERMA 1/2022 Art. 30(5) --------------------------------------------------------------------


@pytest.mark.rule("T6")
@pytest.mark.branch("legal_track")
async def test_restitution_unpaid_thirty_days_after_final_judgment_breaches_perma(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await h.send(case_id, "legal.investigation_opened")
        await h.send(case_id, "legal.judgment_final")
        st = await h.cases.status(case_id)
        assert clock(st, "T6").due_at - clock(st, "T6").started_at == timedelta(days=30)
        await advance(skipping_env, days=30, minutes=1)
        st = await h.cases.status(case_id)
        [breach] = breaches(st, "T6")
        assert (breach.kind, breach.source) == ("breach", "PERMA 1/2022 Art. 30(5)")
        assert ladder(st, "T6") == [(1, "lpsk", "unit head")]
        await advance(skipping_env, days=6, hours=23)
        assert len(ladder(await h.cases.status(case_id), "T6")) == 1
        await advance(skipping_env, hours=1, minutes=1)
        assert ladder(await h.cases.status(case_id), "T6")[1] == (2, "gugus_tugas", "province task force")
        assert await wait_for_notices(h, case_id, "T6", 2) == [(1, "lpsk"), (2, "gugus_tugas_kalsel")]


# --- T15: complaint follow-up, in working days -------------------------------------------------------


async def advance_to_next_friday_morning(env):
    """Move virtual time to the next Friday 09:00 WITA (Banjarmasin), so working days can be counted."""
    local = (await now(env)).astimezone(province_zone("KALSEL"))
    days = (4 - local.weekday()) % 7 or 7
    target = (local + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
    await env.sleep(target - local)
    return target


@pytest.mark.rule("T15")
async def test_complaint_registered_on_friday_must_be_followed_up_by_wednesday(skipping_env):
    # Weekends only: virtual time starts at today's date, and a holiday next week must not move the
    # expected Wednesday (days off are counted in tests/unit: test_durations, test_lifecycle).
    weekends_only = load_policy("default").model_copy(update={"working_days": WorkingDays(calendar=None)})
    async with case_harness(skipping_env, policy=weekends_only) as h:
        await advance_to_next_friday_morning(skipping_env)
        case_id = await h.open(**ADULT_DOMESTIC, source={"agency": "uptd_ppa", "channel": "complaint"})
        st = await h.cases.status(case_id)
        t15 = clock(st, "T15")
        # Three working days from a Friday skip the weekend: Monday, Tuesday, Wednesday.
        assert t15.due_at - t15.started_at == timedelta(days=5)
        assert t15.due_at.astimezone(province_zone("KALSEL")).strftime("%A %H:%M") == "Wednesday 09:00"
        assert clock(st, "S1").due_at - clock(st, "S1").started_at == timedelta(days=3)  # S1 counts calendar days

        await advance(skipping_env, days=5, minutes=-2)
        assert breaches(await h.cases.status(case_id), "T15") == []
        await advance(skipping_env, minutes=3)
        st = await h.cases.status(case_id)
        [warning] = breaches(st, "T15")
        assert (warning.kind, warning.source) == ("warning", "local service standard (UPTD PPA)")
        assert ladder(st, "T15") == [(1, "uptd_ppa", "unit head")]


@pytest.mark.rule("T15")
async def test_complaint_screened_in_time_meets_the_follow_up_standard(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC, source={"agency": "uptd_ppa", "channel": "complaint"})
        await advance(skipping_env, days=1)
        await h.send(case_id, "identification.screening_completed", outcome="needs_more_info")
        await advance(skipping_env, days=8)
        st = await h.cases.status(case_id)
        assert clock(st, "T15").state == "stopped" and breaches(st, "T15") == []


@pytest.mark.rule("T15")
async def test_an_intake_that_is_not_a_complaint_has_no_complaint_clock(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        assert [c for c in (await h.cases.status(case_id)).clocks if c.id == "T15"] == []


# --- T17: reflection period --------------------------------------------------------------------------


@pytest.mark.rule("T17")
async def test_reflection_period_ends_after_thirty_days_without_a_breach(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        t17 = clock(await h.cases.status(case_id), "T17")
        assert t17.state == "running" and t17.kind == "operational"
        assert t17.due_at - t17.started_at == timedelta(days=30)
        await advance(skipping_env, days=30, minutes=1)
        st = await h.cases.status(case_id)
        assert clock(st, "T17").state == "stopped"
        assert breaches(st, "T17") == [] and ladder(st, "T17") == []
        assert any(e.kind == "clock" and e.text.startswith("T17") and e.text.endswith("ended")
                   for e in (await h.cases.timeline(case_id)).entries)


# --- S1 / S2: screening and shelter ----------------------------------------------------------------


@pytest.mark.rule("S1")
async def test_screening_not_completed_in_three_days_warns_and_escalates(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await advance(skipping_env, days=3, minutes=1)
        st = await h.cases.status(case_id)
        [warning] = breaches(st, "S1")
        assert (warning.kind, warning.source) == ("warning", "sinergi default (no statute)")
        assert ladder(st, "S1") == [(1, "uptd_ppa", "unit head")]
        await advance(skipping_env, hours=47)
        assert len(ladder(await h.cases.status(case_id), "S1")) == 1
        await advance(skipping_env, hours=1, minutes=1)
        assert ladder(await h.cases.status(case_id), "S1")[1] == (2, "gugus_tugas", "regency task force")
        assert await wait_for_notices(h, case_id, "S1", 2) == [(1, "uptd_ppa_banjar"), (2, "gugus_tugas_banjar")]


@pytest.mark.rule("S1")
async def test_screening_outcome_in_time_stops_the_screening_clock(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await advance(skipping_env, days=2)
        await to_protection(h, case_id)
        await advance(skipping_env, days=3)
        st = await h.cases.status(case_id)
        assert clock(st, "S1").state == "stopped" and breaches(st, "S1") == []


@pytest.mark.rule("S2")
async def test_no_shelter_within_24h_of_presumed_victim_warns_the_shelter_agency(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        s2 = clock(await h.cases.status(case_id), "S2")
        assert s2.state == "running" and s2.due_at - s2.started_at == timedelta(hours=24)
        await advance(skipping_env, hours=24, minutes=1)
        st = await h.cases.status(case_id)
        [warning] = breaches(st, "S2")
        assert warning.kind == "warning"
        # Responsible: the agency the shelter referral went to (UPTD PPA for an adult woman).
        assert ladder(st, "S2") == [(1, "uptd_ppa", "unit head")]
        await advance(skipping_env, hours=12)
        assert ladder(await h.cases.status(case_id), "S2")[1] == (2, "gugus_tugas", "regency task force")


@pytest.mark.rule("S2")
async def test_shelter_admission_within_24h_stops_the_shelter_clock(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_protection(h, case_id)
        await advance(skipping_env, hours=20)
        await h.send(case_id, "protection.shelter_admitted", facility="RPSA Banjarbaru")
        await advance(skipping_env, days=2)
        st = await h.cases.status(case_id)
        assert clock(st, "S2").state == "stopped" and breaches(st, "S2") == []


# --- T23: reintegration follow-ups ---------------------------------------------------------------------


@pytest.mark.rule("T23")
async def test_follow_up_visits_are_due_at_one_three_six_and_twelve_months(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await to_reintegration_at_home(h, case_id)
        await h.send(case_id, "reintegration.plan_agreed")
        st = await h.cases.status(case_id)
        visits = sorted((c for c in st.clocks if c.id == "T23"), key=lambda c: c.due_at)
        assert [(c.due_at - c.started_at).days for c in visits] == [30, 91, 182, 365]
        assert {c.state for c in visits} == {"running"}

        await advance(skipping_env, days=29)
        await h.send(case_id, "reintegration.followup_completed", wellbeing="stable")
        st = await h.cases.status(case_id)
        assert [c.state for c in sorted((c for c in st.clocks if c.id == "T23"), key=lambda c: c.due_at)] == [
            "stopped", "running", "running", "running"]

        await advance(skipping_env, days=62, minutes=1)  # day 91: the second visit is missed
        st = await h.cases.status(case_id)
        [warning] = breaches(st, "T23")
        assert (warning.kind, warning.context) == ("warning", "2")
        assert warning.source.startswith("sinergi default")
        assert ladder(st, "T23") == [(1, "dinsos", "unit head")]
        await advance(skipping_env, days=7)
        assert ladder(await h.cases.status(case_id), "T23")[1] == (2, "gugus_tugas", "regency task force")
        assert await wait_for_notices(h, case_id, "T23", 2) == [(1, "dinsos_kalsel"), (2, "gugus_tugas_banjar")]


# --- T21: personal-data breach notice ------------------------------------------------------------------


@pytest.mark.rule("T21")
async def test_data_breach_not_notified_within_72h_is_a_pdp_breach(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await h.send(case_id, "case.data_breach_discovered")
        await advance(skipping_env, hours=72, minutes=1)
        st = await h.cases.status(case_id)
        [breach] = breaches(st, "T21")
        assert (breach.kind, breach.source) == ("breach", "UU 27/2022 (PDP)")
        assert ladder(st, "T21") == [(1, "gugus_tugas", "data protection officer")]
        assert await wait_for_notices(h, case_id, "T21", 1) == [(1, "gugus_tugas_kalsel")]
        await h.send(case_id, "case.data_breach_notified")
        await advance(skipping_env, days=2)
        st = await h.cases.status(case_id)
        assert clock(st, "T21").state == "stopped" and len(ladder(st, "T21")) == 1


@pytest.mark.rule("T21")
async def test_data_breach_notice_clock_outlives_the_closed_case(skipping_env):
    async with case_harness(skipping_env) as h:
        case_id = await h.open(**ADULT_DOMESTIC)
        await h.send(case_id, "case.data_breach_discovered")
        await settled(h, case_id)
        await h.send(case_id, "case.closed", reason="victim declined assistance")
        st = await h.cases.status(case_id)
        assert st.closed and clock(st, "T21").state == "running"
        assert clock(st, "S1").state == "cancelled"
        assert await h.cases.is_open(case_id)
        await advance(skipping_env, hours=20)
        await h.send(case_id, "case.data_breach_notified")
        st = await h.cases.status(case_id)
        assert clock(st, "T21").state == "stopped" and breaches(st, "T21") == []
