"""Clocks over a case (DOMAIN §4), pure: pause and resume, expiry as breach or warning, the escalation ladder."""

from __future__ import annotations

from datetime import timedelta

import pytest
from casebook import DOMESTIC, POLICY, T0, Case, notices, started

from sinergi.domain import clocks
from sinergi.domain.effects import SendNotice


def rehabilitation_with_requests(*services: str) -> Case:
    case = Case(**DOMESTIC).to_rehabilitation()
    case.send("identification.police_report_filed", report_number="LP/1")
    case.send("rehabilitation.request_filed", services=list(services), filed_by="victim")
    return case


# --- pause and resume ------------------------------------------------------------------------------


@pytest.mark.branch("contact_lost")
@pytest.mark.rule("S1")
def test_resuming_extends_a_paused_deadline_by_exactly_the_time_it_was_paused() -> None:
    case = Case()
    case.later(hours=10)
    case.send("case.contact_lost")
    clock = case.clock("S1")
    assert (clock.state, clock.paused_at) == ("paused", case.now)
    generation = clock.generation
    case.later(days=4, minutes=17, seconds=3)
    case.send("case.contact_restored")
    assert clock.state == "running" and clock.paused_at is None
    assert clock.due_at == T0 + timedelta(days=3) + timedelta(days=4, minutes=17, seconds=3)
    assert clock.generation == generation + 1, "a waiting timer re-arms"


@pytest.mark.branch("contact_lost")
@pytest.mark.rule("T1")
def test_only_victim_dependent_clocks_pause() -> None:
    case = rehabilitation_with_requests("health")
    case.send("protection.lpsk_application_filed")
    case.send("case.contact_lost")
    states = {c.clock_id: c.state for c in case.s.clocks.values() if c.state in ("running", "paused")}
    assert states["T1"] == "paused"  # waits on the victim
    assert states["T3"] == states["T4"] == "running"  # LPSK's own deadline does not
    assert all(c.state == "running" for c in case.s.clocks.values() if c.clock_id == "S3")
    assert states["T17"] == "running", "the reflection period runs whatever happens"


@pytest.mark.branch("contact_lost")
@pytest.mark.rule("T1")
def test_a_clock_started_while_contact_is_lost_starts_paused_and_keeps_its_full_duration() -> None:
    case = Case(**DOMESTIC).to_rehabilitation()
    case.send("identification.police_report_filed", report_number="LP/1")
    case.send("case.contact_lost")
    case.later(hours=1)
    case.send("rehabilitation.request_filed", services=["social"], filed_by="companion")
    filed_at = case.now
    assert case.clock("T1:social").state == "paused"
    case.later(days=2)
    case.send("case.contact_restored")
    assert case.clock("T1:social").due_at == case.now + timedelta(days=7)
    assert case.clock("T1:social").due_at - filed_at == timedelta(days=9)


@pytest.mark.branch("contact_lost")
@pytest.mark.branch("consent_withdrawn")
def test_clocks_stay_paused_until_every_reason_to_pause_is_lifted() -> None:
    case = Case()
    case.send("case.contact_lost")
    case.later(hours=1)
    case.send("consent.withdrawn", scope="services")
    case.later(hours=2)
    case.send("case.contact_restored")
    assert case.clock("S1").state == "paused"
    case.later(hours=3)
    case.send("consent.recorded", scope="services")
    assert case.clock("S1").state == "running"
    assert case.clock("S1").due_at == T0 + timedelta(days=3, hours=6)


def test_a_paused_clock_can_still_be_met() -> None:
    case = Case()
    case.send("case.contact_lost")
    case.send("identification.screening_completed", outcome="presumed_victim")
    assert case.clock("S1").state == "stopped"


# --- expiry ----------------------------------------------------------------------------------------


@pytest.mark.rule("T1")
def test_a_missed_statutory_clock_is_a_breach_recorded_with_its_source() -> None:
    case = rehabilitation_with_requests("health")
    assert case.expire("T1:health") == []
    clock = case.clock("T1:health")
    assert clock.state == "breached" and clock.breached_at == clock.due_at
    [breach] = case.s.breaches
    assert (breach.clock, breach.source, breach.kind, breach.context) == ("T1", "UU 21/2007 Art. 52(1)", "breach",
                                                                          "health")
    assert breach.at == clock.due_at


@pytest.mark.rule("S1")
def test_a_missed_operational_clock_is_a_warning_not_a_breach() -> None:
    case = Case()
    case.expire("S1")
    assert case.clock("S1").state == "breached"
    [warning] = case.s.breaches
    assert (warning.clock, warning.kind) == ("S1", "warning")
    assert any("SLA warning" in entry.text for entry in case.s.timeline)


@pytest.mark.rule("T4")
def test_lpsk_missing_thirty_days_is_a_practice_warning_while_seven_days_is_a_breach() -> None:
    case = Case(**DOMESTIC).to_protection()
    case.send("protection.lpsk_application_filed")
    case.expire("T3")
    case.expire("T4")
    assert [(b.clock, b.kind) for b in case.s.breaches] == [("T3", "breach"), ("T4", "warning")]


@pytest.mark.rule("T17")
def test_the_end_of_the_reflection_period_is_no_breach() -> None:
    case = Case(**DOMESTIC).to_protection()
    case.expire("T17")
    assert case.clock("T17").state == "stopped" and case.clock("T17").ended_at == case.now
    assert case.s.breaches == []
    assert clocks.next_rung_due(POLICY, case.clock("T17")) is None


@pytest.mark.rule("T2")
def test_a_breached_clock_met_late_stops_and_its_breach_stays_on_record() -> None:
    case = Case(**DOMESTIC, flags={"urgent_medical": True})
    case.expire("T2")
    case.later(hours=5)
    case.send("rehabilitation.first_aid_provided")
    assert case.clock("T2").state == "stopped"
    assert [b.clock for b in case.s.breaches] == ["T2"]
    assert clocks.next_rung_due(POLICY, case.clock("T2")) is None, "no more escalation once met"


# --- escalation ------------------------------------------------------------------------------------


@pytest.mark.rule("T1")
def test_the_ladder_is_walked_rung_by_rung_at_increasing_due_times() -> None:
    case = rehabilitation_with_requests("health")
    key = "T1:health"
    case.expire(key)
    breached = case.clock(key).breached_at
    dues = []
    while (step := clocks.next_rung_due(POLICY, case.clock(key))) is not None:
        index, rung, due = step
        dues.append(due)
        case.now = due
        [effect] = clocks.escalate(case.s, POLICY, key, due)
        assert isinstance(effect, SendNotice) and effect.notice.rung == index + 1
    assert [d - breached for d in dues] == [timedelta(0), timedelta(hours=24), timedelta(hours=72),
                                            timedelta(hours=144)]
    assert [(e.rung, e.role, e.agency, e.level) for e in case.s.escalations] == [
        (1, "unit head", "dinkes", "office"), (2, "parent office head", "dinkes", "office"),
        (3, "regency task force", "gugus_tugas", "regency"), (4, "province task force", "gugus_tugas", "province")]
    assert clocks.escalate(case.s, POLICY, key, case.later(days=30)) == [], "the ladder ends"


@pytest.mark.rule("T1")
def test_every_escalation_names_the_rule_and_its_legal_source() -> None:
    case = rehabilitation_with_requests("social")
    case.expire("T1:social")
    [effect] = clocks.escalate(case.s, POLICY, "T1:social", case.now)
    [escalation] = case.s.escalations
    assert (escalation.clock, escalation.source) == ("T1", "UU 21/2007 Art. 52(1)")
    assert escalation.reason.startswith("T1 UU 21/2007 Art. 52(1)")
    notice = effect.notice
    assert (notice.purpose, notice.kind, notice.clock, notice.source) == (
        "escalation", "dinsos", "T1", "UU 21/2007 Art. 52(1)")
    assert notice.text.startswith("Statutory deadline T1 (UU 21/2007 Art. 52(1)) missed")
    assert "(social)" in notice.text and (notice.province, notice.regency) == ("KALSEL", "63.03")


@pytest.mark.rule("S3")
def test_a_referral_deadline_escalates_to_the_agency_of_that_referral() -> None:
    case = Case()
    case.deliver()
    rid = case.referral("protection_abroad").referral_id
    case.expire(f"S3:{rid}")
    [effect] = clocks.escalate(case.s, POLICY, f"S3:{rid}", case.now)
    assert effect.notice.kind == "kbri"
    assert effect.notice.text.startswith("Service standard S3 (sinergi default (no statute)) missed")


@pytest.mark.rule("T21")
def test_a_missed_data_breach_notice_goes_to_the_province_task_force() -> None:
    case = Case()
    case.send("case.data_breach_discovered")
    case.expire("T21")
    [effect] = clocks.escalate(case.s, POLICY, "T21", case.now)
    assert (effect.notice.kind, effect.notice.level, effect.notice.source) == (
        "gugus_tugas", "province", "UU 27/2022 (PDP)")


def test_an_escalation_notice_id_is_stable_for_idempotent_delivery() -> None:
    one, two = Case(), Case()
    for case in (one, two):
        case.expire("S1")
    assert notices(clocks.escalate(one.s, POLICY, "S1", one.now))[0].notice_id == \
        notices(clocks.escalate(two.s, POLICY, "S1", two.now))[0].notice_id


def test_the_ladder_resumes_from_state_alone() -> None:
    case = rehabilitation_with_requests("health")
    case.expire("T1:health")
    clocks.escalate(case.s, POLICY, "T1:health", case.now)
    restored = type(case.s).model_validate_json(case.s.model_dump_json())
    assert clocks.next_rung_due(POLICY, restored.clocks["T1:health"]) == clocks.next_rung_due(
        POLICY, case.clock("T1:health"))


# --- small rules -----------------------------------------------------------------------------------


@pytest.mark.rule("T6")
@pytest.mark.rule("T21")
@pytest.mark.parametrize(("clock_id", "survives"), [("T6", True), ("T21", True), ("T1", False), ("T11", False),
                                                    ("S1", False), ("T17", False), ("T23", False)])
def test_only_the_legal_track_and_data_breach_clocks_survive_closure(clock_id: str, survives: bool) -> None:
    assert clocks.survives_closure(POLICY, clock_id) is survives


def test_a_timer_summary_names_the_rule_and_never_the_person() -> None:
    case = rehabilitation_with_requests("health")
    assert clocks.summary(POLICY, case.clock("T1:health")) == "T1 UU 21/2007 Art. 52(1): health rehabilitation due"


def test_a_clock_whose_condition_does_not_hold_never_starts() -> None:
    case = Case(**DOMESTIC)
    effects = case.send("identification.police_report_filed", report_number="LP/1")
    assert "T12" not in started(effects) and "T12" not in case.s.clocks
