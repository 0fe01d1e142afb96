"""The lifecycle rules of DOMAIN §3, pure: opening, refusals, stage transitions, referrals and consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from casebook import CASE_ID, CHILD_DOB, DOMESTIC, NO_CONSENT, POLICY, T0, Case, delivered_ids, notices, started

from sinergi.domain import authority, delivery, lifecycle
from sinergi.domain.case import Stage
from sinergi.domain.effects import Deliver, StartContactSearch, StopDelivery
from sinergi.testing.cases import SAMPLE_DOB, SAMPLE_NAME, SAMPLE_PHONE, event

# --- opening a case --------------------------------------------------------------------------------


@pytest.mark.branch("abroad")
@pytest.mark.rule("S1")
def test_a_case_abroad_opens_in_identification_with_screening_and_kbri_referrals_and_the_screening_clock() -> None:
    case = Case()
    assert case.s.stage == Stage.IDENTIFICATION and not case.s.closed
    assert case.services() == [("screening", "bp3mi", "pending"), ("protection_abroad", "kbri", "pending")]
    assert started(case.opening_effects) == ["S1"]
    assert delivered_ids(case.opening_effects) == [case.referral("screening").referral_id,
                                                   case.referral("protection_abroad").referral_id]
    assert case.deliver() == ["bp3mi_kalsel", "kbri_kuala_lumpur"]
    assert case.clock("S1").due_at == T0 + timedelta(days=3)
    assert case.clock("S1").responsible == "uptd_ppa"


@pytest.mark.branch("domestic")
def test_a_domestic_adult_case_opens_with_only_the_screening_referral_to_the_first_contact_agency() -> None:
    case = Case(**DOMESTIC)
    assert case.services() == [("screening", "bp3mi", "pending")]
    assert delivered_ids(case.opening_effects) == [case.referral("screening").referral_id]
    assert started(case.opening_effects) == ["S1"]


@pytest.mark.branch("child")
def test_a_child_case_notifies_uptd_ppa_at_once() -> None:
    case = Case(**DOMESTIC, person={"date_of_birth": CHILD_DOB})
    assert case.s.facts.child
    assert case.services() == [("screening", "bp3mi", "pending"), ("child_protection", "uptd_ppa", "pending")]
    assert case.deliver() == ["bp3mi_kalsel", "uptd_ppa_banjar"]


@pytest.mark.branch("child")
def test_a_person_of_unknown_age_is_handled_as_a_child() -> None:
    case = Case(**DOMESTIC, person={"date_of_birth": None})
    assert ("child_protection", "uptd_ppa", "pending") in case.services()


@pytest.mark.branch("foreign_national")
def test_a_foreign_national_in_indonesia_is_referred_to_immigration_for_their_mission() -> None:
    case = Case(**DOMESTIC, person={"nationality": "VN"})
    assert case.s.facts.foreign_national and not case.s.facts.abroad
    assert case.services() == [("screening", "bp3mi", "pending"), ("foreign_victim", "imigrasi", "pending")]


@pytest.mark.rule("T11")
def test_a_sexual_exploitation_case_is_reported_to_police_by_mandate_and_starts_t11() -> None:
    case = Case(**DOMESTIC, flags={"sexual_exploitation": True})
    police = case.referral("police_report")
    assert police.kind == "polri" and police.mandated_by == "UU 12/2022 Art. 41"
    assert "T11" in started(case.opening_effects)
    assert case.clock("T11").due_at == T0 + timedelta(hours=72)
    assert case.clock("T11").responsible == "uptd_ppa"


@pytest.mark.rule("T11")
@pytest.mark.branch("consent_withdrawn")
def test_the_mandated_police_report_goes_even_without_any_consent() -> None:
    case = Case(**DOMESTIC, **NO_CONSENT, flags={"sexual_exploitation": True}, person={"date_of_birth": CHILD_DOB})
    assert case.referral("police_report").status == "pending"
    assert case.referral("child_protection").status == "held"
    assert case.referral("screening").status == "pending" and case.referral("screening").mandated_by is None
    assert delivered_ids(case.opening_effects) == [case.referral("screening").referral_id,
                                                   case.referral("police_report").referral_id]


@pytest.mark.rule("T2")
def test_an_urgent_medical_case_requests_first_aid_at_once_and_starts_t2() -> None:
    case = Case(**DOMESTIC, flags={"urgent_medical": True})
    assert case.s.first_aid_pending
    assert case.services() == [("screening", "bp3mi", "pending"), ("urgent_first_aid", "dinkes", "pending")]
    assert case.clock("T2").due_at == T0 + timedelta(days=7)


def test_without_consent_every_referral_but_screening_is_held_and_only_screening_is_delivered() -> None:
    case = Case(**NO_CONSENT, person={"date_of_birth": CHILD_DOB})
    assert case.services() == [("screening", "bp3mi", "pending"), ("protection_abroad", "kbri", "held"),
                               ("child_protection", "uptd_ppa", "held")]
    assert delivered_ids(case.opening_effects) == [case.referral("screening").referral_id]


@pytest.mark.parametrize(
    ("source", "kind", "office"),
    [({"agency": "bp3mi", "channel": "debarkation"}, "bp3mi", "bp3mi_kalsel"),
     ({"agency": "uptd_ppa", "channel": "complaint"}, "uptd_ppa", "uptd_ppa_banjar")],
)
def test_the_screening_referral_goes_back_to_the_agency_kind_that_took_the_intake(source: dict, kind: str,
                                                                                   office: str) -> None:
    case = Case(**DOMESTIC, source=source)
    assert case.s.facts.first_contact == kind
    screening = case.referral("screening")
    assert (screening.kind, screening.status, screening.stage) == (kind, "pending", Stage.IDENTIFICATION)
    assert case.deliver() == [office]
    assert screening.office == office and screening.status == "sent"


@pytest.mark.branch("consent_withdrawn")
def test_the_screening_referral_is_delivered_without_consent_while_everything_else_is_held() -> None:
    case = Case(**NO_CONSENT, person={"date_of_birth": CHILD_DOB, "nationality": "VN"},
                flags={"urgent_medical": True})
    screening = case.referral("screening")
    assert screening.mandated_by is None, "not a legal mandate: it returns the data to the agency that gave it"
    held = [(service, kind) for service, kind, status in case.services() if status == "held"]
    assert held == [("protection_abroad", "kbri"), ("child_protection", "uptd_ppa"),
                    ("foreign_victim", "imigrasi"), ("urgent_first_aid", "dinkes")]
    assert [r.referral_id for r in case.s.referrals.values() if r.status != "held"] == [screening.referral_id]
    assert delivered_ids(case.opening_effects) == [screening.referral_id]
    assert case.deliver() == ["bp3mi_kalsel"]
    assert screening.status == "sent"


@pytest.mark.rule("T15")
def test_a_complaint_starts_the_uptd_ppa_follow_up_clock_in_working_days() -> None:
    case = Case(**DOMESTIC, source={"agency": "uptd_ppa", "channel": "complaint"})
    # Friday 08:00 WITA + 3 working days = Wednesday 08:00 WITA.
    assert case.clock("T15").due_at == T0 + timedelta(days=5)
    assert "T15" not in Case(**DOMESTIC).s.clocks


@pytest.mark.rule("T15")
def test_a_complaint_received_on_the_eve_of_lebaran_is_followed_up_after_the_cuti_bersama() -> None:
    # Wednesday 18 March 2026, 10:00 WITA: Nyepi, Idul Fitri and the cuti bersama (SKB 3 Menteri) around
    # it leave Wednesday 25 March as the first working day; the third is Friday 27 March.
    eve = datetime(2026, 3, 18, 2, 0, tzinfo=UTC)
    case = Case(at=eve, **DOMESTIC, source={"agency": "uptd_ppa", "channel": "complaint"})
    assert case.clock("T15").due_at == datetime(2026, 3, 27, 2, 0, tzinfo=UTC)


def test_referral_ids_are_stable_within_the_case_and_carry_no_personal_data() -> None:
    first, again = Case(person={"date_of_birth": CHILD_DOB}), Case(person={"date_of_birth": CHILD_DOB})
    assert list(first.s.referrals) == list(again.s.referrals) == [f"{CASE_ID}-R001", f"{CASE_ID}-R002",
                                                                  f"{CASE_ID}-R003"]
    assert [r.service for r in first.s.referrals.values()] == ["screening", "protection_abroad", "child_protection"]


def test_the_case_state_holds_no_personal_data() -> None:
    text = Case(flags={"sexual_exploitation": True}).s.model_dump_json()
    for secret in (SAMPLE_NAME, SAMPLE_PHONE, SAMPLE_DOB):
        assert secret not in text


# --- what a case accepts ---------------------------------------------------------------------------


def test_an_event_for_another_case_is_refused() -> None:
    case = Case()
    with pytest.raises(lifecycle.EventRefused, match="for case KALSEL-2026-OTHER"):
        lifecycle.check(case.s, event("KALSEL-2026-OTHER", "case.contact_lost"))


def test_the_opening_event_cannot_be_sent_from_outside() -> None:
    refusal = Case().refused("case.opened")
    assert "recorded by sinergi itself" in refusal.reason


def test_a_refusal_gives_the_reason_and_the_events_accepted_now() -> None:
    refusal = Case().refused("protection.safe_placement_confirmed")
    assert refusal.reason == ("protection.safe_placement_confirmed refused: the case is in identification, "
                              "not protection")
    assert "identification.screening_completed" in refusal.accepted
    assert "protection.safe_placement_confirmed" not in refusal.accepted


ALWAYS_OPEN = {"identification.police_report_filed", "consent.recorded", "consent.withdrawn", "case.contact_lost",
               "case.victim_deceased", "case.transferred", "case.closed", "case.data_breach_discovered",
               "legal.investigation_opened", "protection.shelter_admitted"}


def case_in(stage: Stage) -> Case:
    case = Case(**DOMESTIC)
    if stage == Stage.PROTECTION:
        case.to_protection()
    elif stage == Stage.REHABILITATION:
        case.to_rehabilitation()
    elif stage == Stage.REPATRIATION:
        case.to_repatriation()
    elif stage == Stage.REINTEGRATION:
        case.to_reintegration()
    elif stage == Stage.CLOSED:
        case.send("case.closed", reason="test")
    assert case.s.stage == stage
    return case


@pytest.mark.parametrize(
    ("stage", "accepted", "refused"),
    [
        (Stage.IDENTIFICATION, {"identification.screening_completed"},
         {"protection.safe_placement_confirmed", "protection.lpsk_application_filed", "rehabilitation.completed",
          "repatriation.risk_assessed", "reintegration.plan_agreed", "referral.acknowledged",
          "case.contact_restored", "legal.judgment_final", "case.data_breach_notified"}),
        (Stage.PROTECTION, {"protection.safe_placement_confirmed", "protection.lpsk_application_filed",
                            "referral.acknowledged", "referral.accepted", "referral.declined"},
         {"identification.screening_completed", "rehabilitation.completed", "rehabilitation.request_filed",
          "referral.completed"}),
        (Stage.REHABILITATION, {"rehabilitation.completed", "protection.lpsk_application_filed",
                                "protection.shelter_discharged"},
         {"protection.safe_placement_confirmed", "repatriation.departed", "rehabilitation.service_started"}),
        (Stage.REPATRIATION, {"repatriation.risk_assessed", "repatriation.travel_document_issued"},
         {"repatriation.departed", "repatriation.arrived_home", "repatriation.best_interest_determined",
          "repatriation.handed_over", "reintegration.plan_agreed", "rehabilitation.completed"}),
        (Stage.REINTEGRATION, {"reintegration.plan_agreed", "reintegration.rights_settled"},
         {"reintegration.followup_completed", "reintegration.completed", "repatriation.risk_assessed"}),
    ],
)
def test_each_stage_accepts_its_own_events_and_refuses_others(stage: Stage, accepted: set[str],
                                                              refused: set[str]) -> None:
    now = set(lifecycle.accepted_now(case_in(stage).s))
    assert accepted | ALWAYS_OPEN <= now
    assert not refused & now, sorted(refused & now)


def test_a_closed_case_with_nothing_left_to_do_accepts_no_event() -> None:
    # Its run ends: what `case why` lists must be what `case event` would take (issue 23, item 4).
    case = case_in(Stage.CLOSED)
    assert lifecycle.ended(case.s)
    assert lifecycle.accepted_now(case.s) == []
    assert case.refused("case.contact_lost").reason == "case.contact_lost refused: the case is closed"
    for event_type in ("legal.investigation_opened", "case.data_breach_discovered"):
        refusal = case.refused(event_type)
        assert refusal.reason == f"{event_type} refused: the case is closed" and refusal.accepted == []


@pytest.mark.branch("legal_track")
def test_a_closed_case_whose_legal_track_goes_on_accepts_the_legal_track_and_data_breaches() -> None:
    case = Case(**DOMESTIC)
    case.send("legal.investigation_opened")
    case.send("case.closed", reason="test")
    assert not lifecycle.ended(case.s)
    accepted = set(lifecycle.accepted_now(case.s))
    assert {"legal.judgment_final", "legal.proceedings_ended", "case.data_breach_discovered"} <= accepted
    assert "legal.investigation_opened" not in accepted and "case.contact_lost" not in accepted


@pytest.mark.rule("T21")
def test_a_closed_case_with_a_breach_notice_due_accepts_its_notice() -> None:
    case = Case(**DOMESTIC)
    case.send("case.data_breach_discovered")
    case.send("case.closed", reason="test")
    assert not lifecycle.ended(case.s)
    assert {"case.data_breach_notified", "legal.investigation_opened"} <= set(lifecycle.accepted_now(case.s))
    case.send("case.data_breach_notified")
    assert lifecycle.ended(case.s) and lifecycle.accepted_now(case.s) == []


@pytest.mark.rule("T1")
@pytest.mark.branch("legal_track")
def test_an_art_51_request_needs_a_police_report_first() -> None:
    case = case_in(Stage.REHABILITATION)
    refusal = case.refused("rehabilitation.request_filed", services=["health"], filed_by="victim")
    assert "needs a police report first (identification.police_report_filed)" in refusal.reason


def test_a_service_cannot_be_requested_twice_nor_started_unrequested() -> None:
    case = case_in(Stage.REHABILITATION)
    case.send("identification.police_report_filed", report_number="LP/1")
    case.send("rehabilitation.request_filed", services=["health"], filed_by="victim")
    assert "already requested: health" in case.refused(
        "rehabilitation.request_filed", services=["social", "health"], filed_by="victim").reason
    assert "service social is not requested" in case.refused("rehabilitation.service_started",
                                                             service="social").reason
    assert "no service has started" in case.refused("rehabilitation.service_completed", service="health").reason
    case.send("rehabilitation.request_filed", services=["social"], filed_by="victim")
    case.send("rehabilitation.service_started", service="social")
    assert "service health is requested, not started" in case.refused(
        "rehabilitation.service_completed", service="health").reason


def test_a_transfer_to_where_the_case_already_is_is_refused() -> None:
    # The case holds 63.03; the transfer names it (as the gateway and the CLI read it, by code).
    refusal = Case().refused("case.transferred", province="Kalimantan Selatan", regency="Kabupaten Banjar")
    assert "already in KALSEL/63.03" in refusal.reason


def test_a_second_lpsk_application_while_one_is_pending_is_refused() -> None:
    case = case_in(Stage.PROTECTION)
    case.send("protection.lpsk_application_filed")
    assert "already pending" in case.refused("protection.lpsk_application_filed").reason


# --- stage transitions -----------------------------------------------------------------------------


@pytest.mark.rule("T17")
@pytest.mark.rule("S2")
def test_a_presumed_victim_moves_to_protection_with_shelter_police_and_reflection_period() -> None:
    case = Case(**DOMESTIC)
    effects = case.send("identification.screening_completed", outcome="presumed_victim")
    assert case.s.stage == Stage.PROTECTION
    assert case.services() == [("screening", "bp3mi", "completed"), ("shelter", "uptd_ppa", "pending"),
                               ("police_report", "polri", "pending")], "the outcome completes the screening"
    assert delivered_ids(effects) == [case.referral("shelter").referral_id, case.referral("police_report").referral_id]
    assert case.referral("police_report").mandated_by is None, "with legal consent, not by mandate"
    assert started(effects) == ["T17", "S2"]
    assert case.clock("S1").state == "stopped"
    assert case.clock("T17").due_at == T0 + timedelta(days=30)
    assert case.clock("S2").responsible == "uptd_ppa"


@pytest.mark.branch("abroad")
def test_a_presumed_victim_abroad_is_sheltered_by_the_mission() -> None:
    case = Case().to_protection()
    assert case.referral("shelter").kind == "kbri"
    assert case.referral("shelter").office == "kbri_kuala_lumpur"


def test_an_adult_man_at_home_is_sheltered_by_social_affairs() -> None:
    case = Case(**DOMESTIC, person={"sex": "M"}).to_protection()
    assert case.referral("shelter").kind == "dinsos"


def test_without_legal_consent_no_police_referral_is_made_at_screening() -> None:
    case = Case(**DOMESTIC, consent={"legal": False}).to_protection()
    assert [s for s, _, _ in case.services()] == ["screening", "shelter"]


@pytest.mark.branch("legal_track")
def test_no_police_referral_is_made_at_screening_when_a_police_report_was_already_filed() -> None:
    case = Case(**DOMESTIC)
    case.send("identification.police_report_filed", report_number="LP/7")
    effects = case.send("identification.screening_completed", outcome="presumed_victim")
    assert case.s.stage == Stage.PROTECTION
    assert [s for s, _, _ in case.services()] == ["screening", "shelter"]
    assert delivered_ids(effects) == [case.referral("shelter").referral_id]


def test_a_not_victim_outcome_closes_the_case_saying_where_the_person_was_referred() -> None:
    case = Case()
    case.send("identification.screening_completed", outcome="not_victim", referred_elsewhere="Disnaker")
    assert case.s.closed and case.s.stage == Stage.CLOSED
    assert case.s.closure_reason == "screening outcome: not a victim of trafficking (referred to Disnaker)"
    assert case.referral("protection_abroad").status == "cancelled"


@pytest.mark.rule("S1")
def test_needs_more_info_keeps_identification_and_restarts_screening_as_a_new_clock() -> None:
    case = Case()
    case.later(days=2)
    effects = case.send("identification.screening_completed", outcome="needs_more_info")
    assert case.s.stage == Stage.IDENTIFICATION
    [new_key] = started(effects)
    assert new_key.startswith("S1~") and case.clock("S1").state == "stopped"
    assert case.clock(new_key).due_at == case.now + timedelta(days=3)


def test_safe_placement_moves_to_rehabilitation_and_offers_legal_aid() -> None:
    case = Case(**DOMESTIC).to_rehabilitation()
    assert case.s.stage == Stage.REHABILITATION
    assert case.s.in_shelter
    assert case.referral("legal_aid").kind == "ngo"
    assert case.clock("S2").state == "stopped"


@pytest.mark.rule("T3")
@pytest.mark.rule("T4")
def test_an_lpsk_application_starts_t3_and_t4_and_the_decision_stops_both() -> None:
    case = case_in(Stage.PROTECTION)
    assert started(case.send("protection.lpsk_application_filed")) == ["T3", "T4"]
    assert case.clock("T3").due_at == case.now + timedelta(days=7)
    assert case.clock("T4").due_at == case.now + timedelta(days=30)
    case.send("protection.lpsk_decision", decision="accepted")
    assert case.clock("T3").state == case.clock("T4").state == "stopped"
    assert not case.s.lpsk_pending


@pytest.mark.rule("T11")
@pytest.mark.rule("T12")
def test_a_police_report_stops_t11_and_starts_t12_until_protection_is_granted() -> None:
    case = Case(**DOMESTIC, flags={"sexual_exploitation": True})
    case.later(hours=10)
    assert started(case.send("identification.police_report_filed", report_number="LP/9")) == ["T12"]
    assert case.clock("T11").state == "stopped"
    assert case.clock("T12").due_at == case.now + timedelta(hours=24)
    case.send("protection.police_protection_granted")
    assert case.clock("T12").state == "stopped"


def test_police_protection_needs_a_police_report() -> None:
    assert "no police report" in Case().refused("protection.police_protection_granted").reason


@pytest.mark.rule("T1")
def test_an_art_51_request_starts_t1_per_service_and_a_started_service_stops_only_its_own() -> None:
    case = case_in(Stage.REHABILITATION)
    case.send("identification.police_report_filed", report_number="LP/1")
    effects = case.send("rehabilitation.request_filed", services=["health", "social"], filed_by="social_worker")
    assert started(effects) == ["T1:health", "T1:social"]
    assert case.clock("T1:health").due_at == case.now + timedelta(days=7)
    assert (case.clock("T1:health").responsible, case.clock("T1:social").responsible) == ("dinkes", "dinsos")
    assert [(s, k) for s, k, _ in case.services()][-2:] == [("health", "dinkes"), ("social", "dinsos")]
    case.send("rehabilitation.service_started", service="health")
    assert case.clock("T1:health").state == "stopped" and case.clock("T1:social").state == "running"
    case.send("rehabilitation.service_completed", service="health")
    assert case.s.services == {"health": "completed", "social": "requested"}


@pytest.mark.rule("T2")
def test_first_aid_requested_starts_t2_and_provided_stops_it() -> None:
    case = case_in(Stage.PROTECTION)
    effects = case.send("rehabilitation.first_aid_requested")
    assert started(effects) == ["T2"] and case.referral("urgent_first_aid").kind == "dinkes"
    assert "already requested" in case.refused("rehabilitation.first_aid_requested").reason
    case.send("rehabilitation.first_aid_provided")
    assert case.clock("T2").state == "stopped" and not case.s.first_aid_pending


@pytest.mark.branch("domestic")
def test_a_victim_already_home_skips_repatriation() -> None:
    case = Case(**DOMESTIC).to_reintegration()
    assert case.s.stage == Stage.REINTEGRATION
    assert ("family_reintegration", "dinsos", "sent") in case.services()
    assert ("rights_and_empowerment", "bp3mi", "sent") in case.services(), "a PMI has rights to settle"
    assert not any(s == "domestic_return" for s, _, _ in case.services())


def test_a_non_pmi_gets_no_rights_settlement_referral() -> None:
    case = Case(**{"situation": {"location_country": "ID", "is_pmi": False}}).to_reintegration()
    assert [s for s, _, _ in case.services()][-1] == "family_reintegration"


@pytest.mark.branch("domestic")
def test_a_domestic_victim_far_from_home_gets_a_return_within_indonesia() -> None:
    case = Case(**DOMESTIC).to_repatriation()
    assert case.s.stage == Stage.REPATRIATION
    assert case.referral("domestic_return").kind == "dinsos"


@pytest.mark.branch("abroad")
def test_a_pmi_abroad_is_repatriated_by_the_mission_received_at_port_and_sent_home() -> None:
    case = Case().to_repatriation(needs_repatriation=False)
    assert case.s.stage == Stage.REPATRIATION, "abroad means repatriation whatever the flag says"
    repatriation = [(s, k) for s, k, _ in case.services() if case.referral(s).stage == Stage.REPATRIATION]
    assert repatriation == [("travel_document_and_return", "kbri"), ("port_reception", "bp3mi"),
                            ("onward_travel", "dinsos")]


@pytest.mark.branch("abroad")
def test_a_victim_abroad_departs_only_after_a_safe_assessment_and_a_travel_document() -> None:
    case = Case().to_repatriation()
    assert "no safe risk assessment yet" in case.refused("repatriation.departed").reason
    case.send("repatriation.risk_assessed", safe=True)
    assert "no travel document yet" in case.refused("repatriation.departed").reason
    case.send("repatriation.travel_document_issued")
    case.send("repatriation.departed", port="Kuala Lumpur")
    assert "already departed" in case.refused("repatriation.departed").reason
    case.send("repatriation.arrived_port_of_entry", port="Banjarmasin")
    case.send("repatriation.arrived_home", regency="Kabupaten Banjar")
    assert case.s.stage == Stage.REINTEGRATION
    assert not case.s.facts.abroad


def test_arriving_home_sets_the_regency_that_later_referrals_are_routed_by() -> None:
    case = Case(**DOMESTIC, regency="Kota Banjarmasin").to_repatriation()
    case.send("repatriation.risk_assessed", safe=True)
    case.send("repatriation.departed")
    case.send("repatriation.arrived_home", regency="Kabupaten Banjar")
    assert case.s.regency == "63.03"  # by code, as an intake's


@pytest.mark.branch("child")
def test_a_child_returns_only_with_a_confirmed_caregiver_and_a_best_interest_decision() -> None:
    case = Case(**DOMESTIC, person={"date_of_birth": CHILD_DOB}).to_repatriation()
    case.send("repatriation.risk_assessed", safe=True)
    assert "confirmed caregiver and a best-interest decision" in case.refused("repatriation.departed").reason
    case.send("repatriation.best_interest_determined", caregiver_confirmed=False, return_in_best_interest=True)
    assert "confirmed caregiver" in case.refused("repatriation.departed").reason
    case.send("repatriation.best_interest_determined", caregiver_confirmed=True, return_in_best_interest=True)
    case.send("repatriation.departed")
    assert case.s.departed


def test_a_best_interest_decision_is_for_children_only() -> None:
    case = Case(**DOMESTIC).to_repatriation()
    assert "not a child" in case.refused("repatriation.best_interest_determined", caregiver_confirmed=True,
                                         return_in_best_interest=True).reason


@pytest.mark.branch("unsafe_return")
def test_an_unsafe_return_is_not_made_and_the_victim_is_protected_locally() -> None:
    case = Case().to_repatriation()
    effects = case.send("repatriation.risk_assessed", safe=False)
    assert case.s.return_unsafe and case.s.stage == Stage.REINTEGRATION
    for service in ("travel_document_and_return", "port_reception", "onward_travel"):
        assert case.referral(service).status == "cancelled"
        assert StopDelivery(case.referral(service).referral_id) in effects
    assert case.referral("family_reintegration").status == "pending"
    assert case.referral("shelter").status != "cancelled", "protection measures continue"


@pytest.mark.branch("foreign_national")
def test_a_foreign_national_is_handed_to_their_mission_and_the_case_ends() -> None:
    case = Case(**DOMESTIC, person={"nationality": "VN"}).to_repatriation(needs_repatriation=False)
    assert case.referral("handover_to_mission").kind == "imigrasi"
    assert "handed over" in case.refused("repatriation.departed").reason
    assert "no safe risk assessment" in case.refused("repatriation.handed_over", mission="Embassy of Viet Nam").reason
    case.send("repatriation.risk_assessed", safe=True)
    case.send("repatriation.handed_over", mission="Embassy of Viet Nam")
    assert case.s.closed and "UU 21/2007 Art. 54(2)" in case.s.closure_reason


@pytest.mark.branch("foreign_national")
def test_an_indonesian_is_not_handed_over_to_a_mission() -> None:
    case = Case(**DOMESTIC).to_repatriation()
    case.send("repatriation.risk_assessed", safe=True)
    assert "the victim is Indonesian" in case.refused("repatriation.handed_over", mission="x").reason


@pytest.mark.rule("T23")
def test_an_agreed_plan_starts_follow_ups_at_one_three_six_and_twelve_months() -> None:
    case = case_in(Stage.REINTEGRATION)
    effects = case.send("reintegration.plan_agreed")
    assert started(effects) == ["T23:1", "T23:2", "T23:3", "T23:4"]
    assert [(case.clock(k).due_at - case.now).days for k in started(effects)] == [30, 91, 182, 365]
    case.send("reintegration.followup_completed", wellbeing="stable")
    assert [case.clock(f"T23:{n}").state for n in range(1, 5)] == ["stopped", "running", "running", "running"]
    case.send("reintegration.followup_completed", wellbeing="at_risk")
    assert case.clock("T23:2").state == "stopped" and case.s.followups_done == 2


@pytest.mark.branch("crisis_reopens_protection")
@pytest.mark.rule("S2")
def test_a_crisis_at_follow_up_reopens_protection_with_a_new_shelter_referral() -> None:
    case = case_in(Stage.REINTEGRATION)
    case.send("reintegration.plan_agreed")
    shelters_before = sum(s == "shelter" for s, _, _ in case.services())
    effects = case.send("reintegration.followup_completed", wellbeing="crisis")
    assert case.s.stage == Stage.PROTECTION and case.s.retrafficking_risk
    assert sum(s == "shelter" for s, _, _ in case.services()) == shelters_before + 1
    assert case.referral("shelter").status == "pending"
    assert [k for k in started(effects) if k.startswith("S2")], "shelter placement clock restarted"
    assert [c.state for c in case.clocks_of("T23")] == ["stopped", "cancelled", "cancelled", "cancelled"]
    assert not case.s.plan_agreed


def test_reintegration_completed_closes_the_case() -> None:
    case = case_in(Stage.REINTEGRATION)
    assert "no reintegration plan" in case.refused("reintegration.completed").reason
    case.send("reintegration.plan_agreed")
    case.send("reintegration.completed")
    assert case.s.closed and case.s.closure_reason == "reintegration completed"


# --- the referral handshake ------------------------------------------------------------------------


@pytest.mark.rule("S3")
@pytest.mark.rule("S4")
def test_the_referral_handshake_runs_sent_acknowledged_accepted_completed_with_its_clocks() -> None:
    case = Case(person={"date_of_birth": CHILD_DOB})
    rid = case.referral("protection_abroad").referral_id
    assert "no referral of this case is sent" in case.refused("referral.acknowledged", referral_id=rid).reason
    assert case.deliver() == ["bp3mi_kalsel", "kbri_kuala_lumpur", "uptd_ppa_banjar"]
    case.send("referral.accepted", referral_id=case.referral("child_protection").referral_id)
    assert case.s.referrals[rid].status == "sent" and case.s.referrals[rid].sent_at == case.now
    assert case.clock(f"S3:{rid}").due_at == case.now + timedelta(hours=24)
    assert case.clock(f"S3:{rid}").responsible == "kbri"
    case.later(hours=3)
    assert started(case.send("referral.acknowledged", source="kbri_kuala_lumpur", referral_id=rid)) == [f"S4:{rid}"]
    assert case.clock(f"S3:{rid}").state == "stopped"
    assert case.clock(f"S4:{rid}").due_at == case.now + timedelta(hours=48)
    assert "is acknowledged, expected accepted" in case.refused("referral.completed", referral_id=rid).reason
    case.send("referral.accepted", referral_id=rid)
    assert case.clock(f"S4:{rid}").state == "stopped"
    case.send("referral.completed", referral_id=rid, reason="sheltered")
    assert case.s.referrals[rid].status == "completed"
    assert "is completed, expected accepted" in case.refused("referral.completed", referral_id=rid).reason


@pytest.mark.rule("S3")
def test_accepting_straight_from_sent_stops_the_acknowledgement_clock() -> None:
    case = Case()
    case.deliver()
    rid = case.referral("protection_abroad").referral_id
    case.send("referral.accepted", referral_id=rid)
    assert case.clock(f"S3:{rid}").state == "stopped" and f"S4:{rid}" not in case.s.clocks


def test_an_office_cannot_answer_for_a_referral_sent_to_another_office() -> None:
    case = Case()
    case.deliver()
    rid = case.referral("protection_abroad").referral_id
    refusal = case.refused("referral.acknowledged", source="kemlu_pwni", referral_id=rid)
    assert "was sent to kbri_kuala_lumpur, not kemlu_pwni" in refusal.reason
    case.send("referral.acknowledged", source="operator:officer-17", referral_id=rid)


def test_an_unknown_referral_is_refused() -> None:
    case = Case()
    case.deliver()
    assert "no referral KALSEL-2026-7Q2M9XKD-R999" in case.refused(
        "referral.acknowledged", referral_id=f"{CASE_ID}-R999").reason


def test_a_referral_event_needs_some_referral_in_that_status() -> None:
    refusal = Case().refused("referral.acknowledged", referral_id=f"{CASE_ID}-R001")
    assert "no referral of this case is sent" in refusal.reason


@pytest.mark.rule("S3")
def test_a_declined_referral_is_rerouted_to_the_next_kind_of_agency() -> None:
    case = Case(**DOMESTIC).to_protection()
    first = case.referral("shelter")
    assert (first.kind, first.office) == ("uptd_ppa", "uptd_ppa_banjar")
    effects = case.send("referral.declined", source="uptd_ppa_banjar", referral_id=first.referral_id,
                        reason="no bed")
    assert first.status == "declined" and first.reason == "no bed"
    assert case.clock(f"S3:{first.referral_id}").state == "stopped", "the office answered in time"
    second = case.referral("shelter", status="pending")
    assert (second.kind, second.kinds_tried) == ("dinsos", ["uptd_ppa"])
    assert delivered_ids(effects) == [second.referral_id]


def test_when_every_kind_has_declined_a_manual_task_is_opened_and_the_task_force_told() -> None:
    case = Case(**DOMESTIC).to_protection()
    for office in ("uptd_ppa_banjar", "dinsos_kalsel", "ngo_kalsel"):
        referral = case.referral("shelter", status="sent")
        assert referral.office == office
        effects = case.send("referral.declined", referral_id=referral.referral_id, reason="full")
        case.deliver()
    assert case.referral("shelter").kinds_tried == ["uptd_ppa", "dinsos"]
    [task] = case.s.manual_tasks
    assert task.agency == "gugus_tugas" and "shelter placement" in task.reason and "by phone or letter" in task.reason
    [escalation] = case.s.escalations
    assert (escalation.agency, escalation.level, escalation.source) == ("gugus_tugas", "province", "Perpres 49/2023")
    [notice] = notices(effects, "escalation")
    assert notice.kind == "gugus_tugas" and notice.level == "province" and task.id in notice.text


@pytest.mark.branch("abroad")
def test_a_mission_declining_has_no_alternative_and_goes_straight_to_a_manual_task() -> None:
    case = Case()
    case.deliver()
    rid = case.referral("protection_abroad").referral_id
    case.send("referral.declined", referral_id=rid, reason="not our jurisdiction")
    assert [t.referral_id for t in case.s.manual_tasks] == [rid]
    assert [(r.service, r.status) for r in case.s.referrals.values()] == [("screening", "sent"),
                                                                          ("protection_abroad", "declined")]


def test_a_rejected_delivery_fails_visibly_with_a_manual_task_and_escalation() -> None:
    case = Case()
    rid = case.referral("protection_abroad").referral_id
    effects = delivery.rejected(case.s, rid, "kbri_kuala_lumpur", "422 missing passport number", case.now)
    assert case.s.referrals[rid].status == "failed"
    assert "422 missing passport number" in case.s.referrals[rid].last_error
    assert case.s.manual_tasks[0].agency == "kbri" and notices(effects, "escalation")


def test_an_unroutable_referral_tries_the_next_kind() -> None:
    case = Case(**DOMESTIC).to_protection()
    rid = case.referral("shelter").referral_id
    case.s.referrals[rid].status = "pending"
    effects = delivery.unroutable(case.s, rid, case.now)
    assert case.s.referrals[rid].status == "failed"
    assert case.referral("shelter", status="pending").kind == "dinsos"
    assert delivered_ids(effects)


# --- consent ---------------------------------------------------------------------------------------


@pytest.mark.branch("consent_withdrawn")
def test_withdrawing_consent_holds_and_cancels_referrals_and_restricts_only_offices_that_received_data() -> None:
    case = Case(**DOMESTIC, person={"date_of_birth": CHILD_DOB}, flags={"sexual_exploitation": True})
    # screening -> bp3mi_kalsel; child_protection -> uptd_ppa_banjar; mandated police -> polda_kalsel
    assert case.deliver() == ["bp3mi_kalsel", "uptd_ppa_banjar", "polda_kalsel"]
    case.send("identification.screening_completed", outcome="presumed_victim")  # shelter: pending, not delivered
    shelter = case.referral("shelter")
    child = case.referral("child_protection")
    screening = case.referral("screening")
    effects = case.send("consent.withdrawn", scope="services")
    assert shelter.status == "held" and StopDelivery(shelter.referral_id) in effects
    assert child.status == "cancelled" and child.reason == "consent withdrawn (services)"
    assert case.clock(f"S3:{child.referral_id}").state == "cancelled"
    assert screening.status == "completed", "the screening was done before consent was withdrawn"
    assert case.referral("police_report").status == "sent", "the mandated report is untouched"
    restricted = notices(effects, "restriction")
    assert [n.office for n in restricted] == ["bp3mi_kalsel", "uptd_ppa_banjar"], \
        "only offices that received data, mandated aside"
    assert "except where the law requires it" in restricted[0].text
    assert not case.s.consent.services


@pytest.mark.branch("consent_withdrawn")
@pytest.mark.branch("legal_track")
def test_mandated_police_processes_continue_when_consent_is_withdrawn() -> None:
    case = Case(**DOMESTIC, flags={"sexual_exploitation": True})
    case.deliver()
    police = case.referral("police_report")
    for scope in ("services", "data_sharing", "legal"):
        case.send("consent.withdrawn", scope=scope)
    assert police.status == "sent" and police.mandated_by
    assert case.clock("T11").state == "running"
    assert any("UU 21/2007 Art. 26" in entry.text for entry in case.s.timeline)


@pytest.mark.branch("consent_withdrawn")
@pytest.mark.rule("S1")
def test_withdrawing_consent_to_services_pauses_victim_dependent_clocks_and_recording_it_resumes_them() -> None:
    case = Case(**DOMESTIC, flags={"sexual_exploitation": True})
    case.send("consent.withdrawn", scope="services")
    assert case.clock("S1").state == "paused" and case.clock("T11").state == "running"
    case.later(hours=5)
    case.send("consent.recorded", scope="services")
    assert case.clock("S1").state == "running"
    assert case.clock("S1").due_at == T0 + timedelta(days=3, hours=5)


@pytest.mark.branch("consent_withdrawn")
def test_withdrawing_data_sharing_holds_referrals_without_pausing_the_case() -> None:
    case = Case()
    effects = case.send("consent.withdrawn", scope="data_sharing")
    assert case.referral("protection_abroad").status == "held"
    assert case.clock("S1").state == "running"
    assert StopDelivery(case.referral("protection_abroad").referral_id) in effects


@pytest.mark.branch("consent_withdrawn")
@pytest.mark.branch("legal_track")
def test_withdrawing_legal_consent_touches_only_police_and_legal_aid_referrals() -> None:
    case = Case(**DOMESTIC).to_rehabilitation()
    effects = case.send("consent.withdrawn", scope="legal")
    statuses = {s: st for s, _, st in case.services()}
    assert statuses == {"screening": "completed", "shelter": "sent", "police_report": "cancelled",
                        "legal_aid": "cancelled"}
    assert sorted(n.office for n in notices(effects, "restriction")) == ["ngo_kalsel", "polda_kalsel"]
    assert case.s.consent.services and not case.s.consent.legal


@pytest.mark.branch("consent_withdrawn")
def test_withdrawing_consent_for_one_agency_stops_only_that_agency_now_and_later() -> None:
    case = Case(**DOMESTIC)
    effects = case.send("consent.withdrawn", scope="data_sharing", agency="uptd_ppa")
    assert case.s.consent.data_sharing, "the victim still consents for every other agency"
    assert notices(effects, "restriction") == []
    case.send("identification.screening_completed", outcome="presumed_victim")
    assert case.referral("shelter").status == "held", "a later referral to that agency is held too"
    assert case.referral("police_report").status == "pending"
    case.send("consent.recorded", scope="legal")
    assert case.referral("shelter").status == "held", "other consent does not lift the withdrawal"
    effects = case.send("consent.recorded", scope="data_sharing", agency="uptd_ppa")
    assert case.referral("shelter").status == "pending"
    assert Deliver(case.referral("shelter").referral_id) in effects


@pytest.mark.branch("consent_withdrawn")
def test_withdrawing_consent_for_one_office_restricts_only_that_office() -> None:
    case = Case(**DOMESTIC).to_protection()
    effects = case.send("consent.withdrawn", scope="data_sharing", agency="uptd_ppa_banjar")
    assert [n.office for n in notices(effects, "restriction")] == ["uptd_ppa_banjar"]
    assert case.referral("shelter").status == "cancelled"
    assert case.referral("police_report").status == "sent"


@pytest.mark.branch("consent_withdrawn")
def test_recording_consent_releases_held_referrals() -> None:
    case = Case(**NO_CONSENT)
    rid = case.referral("protection_abroad").referral_id
    assert case.send("consent.recorded", scope="services") == []
    effects = case.send("consent.recorded", scope="data_sharing")
    assert effects == [Deliver(rid)] and case.s.referrals[rid].status == "pending"


@pytest.mark.branch("legal_track")
def test_recording_legal_consent_after_screening_refers_to_police() -> None:
    case = Case(**DOMESTIC, consent={"legal": False}).to_protection()
    case.send("consent.recorded", scope="legal")
    assert case.referral("police_report").status == "pending"


@pytest.mark.branch("consent_withdrawn")
def test_data_that_arrives_after_a_withdrawal_is_followed_by_a_restriction_notice() -> None:
    case = Case()
    rid = case.referral("protection_abroad").referral_id
    case.send("consent.withdrawn", scope="data_sharing")
    receipt = delivery.DeliveryReceipt(office="kbri_kuala_lumpur", fields=["person.sex"], delivered_at=case.now)
    effects = delivery.delivered(case.s, POLICY, rid, receipt, case.now)
    assert case.s.referrals[rid].status == "held"
    [notice] = notices(effects, "restriction")
    assert notice.office == "kbri_kuala_lumpur"
    assert case.s.deliveries[-1].office == "kbri_kuala_lumpur", "who holds the data is recorded all the same"


# --- transfer, contact, death, closure -------------------------------------------------------------


@pytest.mark.branch("transfer")
def test_a_transfer_cancels_open_referrals_and_makes_them_again_in_the_new_jurisdiction() -> None:
    case = Case(**DOMESTIC, person={"date_of_birth": CHILD_DOB})
    case.deliver()
    case.to_protection()
    case.send("referral.accepted", referral_id=case.referral("child_protection").referral_id)
    case.send("referral.completed", referral_id=case.referral("child_protection").referral_id)
    before = {r.referral_id: r.service for r in case.s.referrals.values() if r.status in ("sent", "pending")}
    effects = case.send("case.transferred", province="JATIM", regency="Kota Surabaya")
    assert (case.s.province, case.s.regency) == ("JATIM", "35.78")  # Kota Surabaya, by code
    for rid in before:
        assert case.s.referrals[rid].status == "cancelled" and StopDelivery(rid) in effects
    fresh = [r for r in case.s.referrals.values() if r.status == "pending"]
    assert sorted(r.service for r in fresh) == sorted(before.values())
    assert case.referral("child_protection", status="completed"), "finished referrals stay as they were"
    assert "shelter" in before.values(), "the open shelter referral moves with the case"
    assert case.referral("screening", status="completed"), "the screening was done before the transfer"
    assert sorted(case.deliver()) == ["polda_jatim", "uptd_ppa_jatim"]
    assert case.clock(f"S3:{next(iter(before))}").state == "cancelled"


@pytest.mark.branch("transfer")
def test_a_held_referral_stays_held_after_a_transfer() -> None:
    case = Case(**NO_CONSENT)
    old_screening = case.referral("screening")
    effects = case.send("case.transferred", province="JATIM", regency=None)
    assert case.referral("protection_abroad", status="held")
    assert old_screening.status == "cancelled" and StopDelivery(old_screening.referral_id) in effects
    new_screening = case.referral("screening", status="held")
    assert not new_screening.returns_to_source, "a transferred screening goes to a new office: a disclosure"
    assert delivered_ids(effects) == [], "without consent nothing is sent to the new jurisdiction"


@pytest.mark.branch("contact_lost")
def test_losing_contact_pauses_victim_dependent_clocks_and_asks_the_task_force_to_help() -> None:
    case = Case(**DOMESTIC, flags={"sexual_exploitation": True})
    effects = case.send("case.contact_lost")
    assert case.clock("S1").state == "paused" and case.clock("T11").state == "running"
    [notice] = notices(effects, "contact_search")
    assert (notice.kind, notice.level) == ("gugus_tugas", "regency")
    assert StartContactSearch(case.now) in effects
    assert "contact is already lost" in case.refused("case.contact_lost").reason


@pytest.mark.branch("contact_lost")
def test_contact_not_restored_after_the_configured_attempts_closes_the_case() -> None:
    case = Case()
    case.send("case.contact_lost")
    for attempt in (1, 2):
        effects = lifecycle.contact_attempt_failed(case.s, POLICY, case.later(hours=72))
        assert notices(effects, "contact_search")[0].text == f"contact attempt {attempt} of 3 failed"
        assert not case.s.closed
    lifecycle.contact_attempt_failed(case.s, POLICY, case.later(hours=72))
    assert case.s.closed and case.s.closure_reason.startswith("contact lost after 3 attempts")


@pytest.mark.branch("death")
@pytest.mark.branch("legal_track")
@pytest.mark.rule("T6")
def test_a_victims_death_closes_assistance_but_the_legal_track_goes_on_for_the_heirs() -> None:
    case = Case(**DOMESTIC).to_protection()
    case.send("legal.investigation_opened")
    case.send("case.victim_deceased")
    assert case.s.closed and case.s.closure_reason == "victim deceased"
    assert {st for service, _, st in case.services() if service != "screening"} == {"cancelled"}
    assert case.referral("screening", status="completed")
    assert any("heirs keep restitution rights" in e.text for e in case.s.timeline)
    assert started(case.send("legal.judgment_final")) == ["T6"]
    assert case.clock("T6").due_at == case.now + timedelta(days=30)
    case.send("legal.restitution_paid")
    assert case.clock("T6").state == "stopped"


@pytest.mark.rule("T6")
@pytest.mark.rule("T21")
def test_closing_cancels_every_clock_but_restitution_and_data_breach_notice() -> None:
    case = Case(**DOMESTIC, flags={"sexual_exploitation": True, "urgent_medical": True}).to_protection()
    case.send("protection.lpsk_application_filed")
    case.send("legal.investigation_opened")
    case.send("legal.judgment_final")
    case.send("case.data_breach_discovered")
    effects = case.send("case.closed", reason="victim moved abroad; case handed to KBRI")
    states = {c.key: c.state for c in case.s.clocks.values()}
    assert states["T6"] == states["T21"] == "running"
    assert {k: v for k, v in states.items() if k not in ("T6", "T21") and v == "running"} == {}
    assert {"T3", "T4", "T11", "T2", "T17"} <= {k for k, v in states.items() if v == "cancelled"}
    assert {type(e) for e in effects} == {StopDelivery}


@pytest.mark.rule("T21")
def test_a_data_breach_discovered_after_closure_still_starts_its_notice_clock() -> None:
    # While the closed case's run goes on (here its legal track): once it has ended, nothing reaches it.
    case = Case(**DOMESTIC)
    case.send("legal.investigation_opened")
    case.send("case.closed", reason="test")
    assert "no data breach" in case.refused("case.data_breach_notified").reason
    assert started(case.send("case.data_breach_discovered")) == ["T21"]
    assert case.clock("T21").due_at == case.now + timedelta(hours=72)
    case.send("case.data_breach_notified")
    assert case.clock("T21").state == "stopped"


@pytest.mark.branch("legal_track")
def test_the_legal_track_opens_once_and_ends() -> None:
    case = Case()
    assert "no legal track is open" in case.refused("legal.judgment_final").reason
    case.send("legal.investigation_opened")
    assert "already open" in case.refused("legal.investigation_opened").reason
    case.send("legal.proceedings_ended")
    assert not case.s.legal_track_open


def test_applying_an_event_records_it_once_in_the_timeline_and_applied_ids() -> None:
    case = Case()
    e = event(CASE_ID, "case.contact_lost", event_id="evt-42", source="bp3mi_kalsel")
    lifecycle.apply(case.s, POLICY, e, case.now)
    assert case.s.applied == {authority.applied_key(None, "evt-42"): authority.digest(e)}
    assert [t.text for t in case.s.timeline if t.ref == "evt-42"] == ["case.contact_lost by bp3mi_kalsel"]
