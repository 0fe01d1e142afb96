"""`report offices`: each office's answers to its referrals, counted by hand from `report_kit`'s referrals."""

from __future__ import annotations

from datetime import timedelta

from report_kit import DEC, JAN, NOV, NOW, day

from sinergi.records import ReferralStep
from sinergi.reports import offices

DINSOS_KALSEL = {
    "office": "dinsos_kalsel", "kind": "dinsos", "referrals": 2, "acknowledged": 1, "accepted": 0, "declined": 0,
    "completed": 0, "ack_hours_p50": 4.0, "ack_hours_p90": 4.0, "accept_hours_p50": None, "late_ack": 1,
    "late_answer": 1, "decline_reasons": {}, "answer_hours_p50": None, "committed_hours": None,
}
DINSOS_KALTIM = {
    "office": "dinsos_kaltim", "kind": "dinsos", "referrals": 1, "acknowledged": 1, "accepted": 1, "declined": 0,
    "completed": 0, "ack_hours_p50": 1.0, "ack_hours_p90": 1.0, "accept_hours_p50": 5.0, "late_ack": 0,
    "late_answer": 0, "decline_reasons": {}, "answer_hours_p50": 5.0, "committed_hours": None,
}
# Acknowledged after 2, 30 and 10 hours (C3-R1 by accepting at once): median 10, 90th percentile 10 + 0.8 × 20.
UPTD_PPA_KALSEL = {
    "office": "uptd_ppa_kalsel", "kind": "uptd_ppa", "referrals": 3, "acknowledged": 3, "accepted": 2, "declined": 1,
    "completed": 1, "ack_hours_p50": 10.0, "ack_hours_p90": 26.0, "accept_hours_p50": 11.0, "late_ack": 1,
    "late_answer": 1, "decline_reasons": {"not_coded": 1}, "answer_hours_p50": 12.0, "committed_hours": None,
}


def rows(found) -> list[dict]:
    return [row.model_dump() for row in found]


def test_every_office_with_its_referrals_acknowledgements_answers_and_lateness(record):
    assert rows(offices(record.engine, now=NOW)) == [DINSOS_KALSEL, DINSOS_KALTIM, UPTD_PPA_KALSEL]


def test_a_province_counts_only_the_referrals_of_its_cases(record):
    assert rows(offices(record.engine, province="kalsel", now=NOW)) == [DINSOS_KALSEL, UPTD_PPA_KALSEL]


def test_a_referral_counts_in_the_period_it_was_sent_in(record):
    december = rows(offices(record.engine, DEC, JAN, "KALSEL", now=NOW))
    assert december == [UPTD_PPA_KALSEL | {
        "referrals": 1, "acknowledged": 1, "accepted": 1, "declined": 0, "completed": 0, "ack_hours_p50": 10.0,
        "ack_hours_p90": 10.0, "accept_hours_p50": 10.0, "answer_hours_p50": 10.0, "late_ack": 0, "late_answer": 0,
        "decline_reasons": {}}]


def test_an_unanswered_referral_is_late_only_once_its_due_time_has_passed(record):
    # On 3 Nov at noon, C1-R2 (sent at midnight, due the next midnight) is waiting, not yet late.
    dinsos = offices(record.engine, NOV, day(11, 3, 12), "KALSEL", now=NOW)[0]
    assert (dinsos.office, dinsos.referrals, dinsos.acknowledged, dinsos.late_ack) == ("dinsos_kalsel", 1, 0, 0)


def test_a_step_without_a_due_time_is_held_to_the_offices_committed_response_time(empty_record):
    sent = day(11, 2)
    empty_record.write([
        ReferralStep(case_id="KALSEL-2026-B1", referral_id="R1", service="legal_aid", kind="peradi", office="lbh",
                     state="sent", at=sent),
        ReferralStep(case_id="KALSEL-2026-B1", referral_id="R1", service="legal_aid", kind="peradi", office="lbh",
                     state="acknowledged", at=sent + timedelta(hours=30)),
        ReferralStep(case_id="KALSEL-2026-B1", referral_id="R1", service="legal_aid", kind="peradi", office="lbh",
                     state="accepted", at=sent + timedelta(hours=40)),
    ])

    held = offices(empty_record.engine, committed={"lbh": timedelta(hours=24)}, now=NOW)[0]
    unheld = offices(empty_record.engine, now=NOW)[0]

    assert (held.late_ack, held.late_answer, held.committed_hours) == (1, 0, 24.0)
    assert (unheld.late_ack, unheld.late_answer, unheld.committed_hours) == (0, 0, None)


def test_a_referral_cancelled_before_its_due_time_was_never_late(empty_record):
    sent = day(11, 2)
    step = dict(case_id="KALSEL-2026-B2", referral_id="R1", service="shelter", kind="dinsos", office="dinsos_kalsel")
    empty_record.write([ReferralStep(**step, state="sent", at=sent, due_at=sent + timedelta(hours=24)),
                        ReferralStep(**step, state="cancelled", at=sent + timedelta(hours=5))])

    found = offices(empty_record.engine, now=NOW)[0]

    assert (found.referrals, found.acknowledged, found.late_ack, found.late_answer) == (1, 0, 0, 0)


def test_declines_are_counted_by_their_coded_reason_and_an_uncoded_one_apart(empty_record):
    sent = day(11, 2)
    steps = []
    for n, code in enumerate(("no_capacity", "no_capacity", "outside_jurisdiction", None)):
        step = dict(case_id=f"KALSEL-2026-D{n}", referral_id="R1", service="shelter", kind="dinsos",
                    office="dinsos_kalsel")
        steps += [ReferralStep(**step, state="sent", at=sent),
                  ReferralStep(**step, state="declined", at=sent + timedelta(hours=3), reason_code=code)]
    empty_record.write(steps)

    found = offices(empty_record.engine, now=NOW)[0]

    assert found.declined == 4
    assert found.decline_reasons == {"no_capacity": 2, "not_coded": 1, "outside_jurisdiction": 1}
