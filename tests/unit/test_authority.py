"""Who may say what about a case (SPEC "Authority"), and what the case keeps of what grows (SPEC "Limits").

Each test drives the pure domain as the workflow's validator and handler do: `authority.check`, then
`lifecycle.check` and `lifecycle.apply`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from casebook import CASE_ID, CHILD_DOB, DOMESTIC, POLICY, REGISTRY, Case
from pydantic import ValidationError

from sinergi.domain import authority, clocks, lifecycle, limits
from sinergi.domain.events import parse_event
from sinergi.testing.cases import event


def sender(office_id: str):
    return REGISTRY.offices[office_id].sender


def refusal(case: Case, type_: str, office_id: str, **data) -> authority.Refused:
    with pytest.raises(authority.Refused) as caught:
        authority.check(case.s, event(CASE_ID, type_, source=office_id, **data), sender(office_id))
    return caught.value


def opened(**overrides) -> Case:
    """A domestic adult case from BP3MI (its screening referral delivered: BP3MI's office leads)."""
    case = Case(**{**DOMESTIC, **overrides})
    case.deliver()
    return case


def test_covering_the_province_does_not_make_an_office_a_party() -> None:
    case = opened()
    # Reproduction of the review: POLDA with no referral in the case closed it as "not a victim"; UPTD PPA
    # (covering the regency) withdrew consent; the NGO marked contact lost.
    refused = refusal(case, "identification.screening_completed", "polda_kalsel", outcome="not_victim")
    assert refused.code == "not_a_party"
    assert refusal(case, "consent.withdrawn", "uptd_ppa_banjar", scope="services").code == "not_a_party"
    assert refusal(case, "case.contact_lost", "ngo_kalsel").code == "not_a_party"


def test_the_office_that_registered_the_intake_leads_the_case_and_decides_for_it() -> None:
    case = opened()
    assert authority.lead_office(case.s) == "bp3mi_kalsel"
    authority.check(case.s, event(CASE_ID, "consent.withdrawn", scope="services"), sender("bp3mi_kalsel"))
    authority.check(case.s, event(CASE_ID, "case.contact_lost"), None)  # an operator


def test_a_party_that_is_not_the_lead_may_not_take_case_level_decisions() -> None:
    case = opened()
    case.to_protection()  # the shelter referral goes to UPTD PPA: a party now
    assert "uptd_ppa_banjar" in authority.parties(case.s)
    for type_, data in (("consent.withdrawn", {"scope": "services"}), ("case.contact_lost", {}),
                        ("identification.screening_completed", {"outcome": "not_victim"})):
        refused = refusal(case, type_, "uptd_ppa_banjar", **data)
        assert refused.code == "not_allowed" and "lead office (bp3mi_kalsel)" in refused.reason
    # ...but what its own agreement and part allow, it may send.
    authority.check(case.s, event(CASE_ID, "protection.shelter_admitted", facility="RPTC"), sender("uptd_ppa_banjar"))


def test_a_party_may_not_send_what_its_agreement_does_not_allow() -> None:
    case = opened()
    case.to_protection()
    refused = refusal(case, "legal.investigation_opened", "uptd_ppa_banjar")
    assert refused.code == "not_allowed" and "its agreement" in refused.reason


def test_a_referral_is_answered_only_by_the_office_it_was_sent_to() -> None:
    case = opened()
    case.to_protection()
    shelter = case.referral("shelter")
    assert shelter.office == "uptd_ppa_banjar"
    refused = refusal(case, "referral.acknowledged", "bp3mi_kalsel", referral_id=shelter.referral_id)
    assert refused.code == "not_allowed" and "not sent to office bp3mi_kalsel" in refused.reason
    authority.check(case.s, event(CASE_ID, "referral.acknowledged", referral_id=shelter.referral_id),
                    sender("uptd_ppa_banjar"))


@pytest.mark.branch("child")
def test_uptd_ppa_leads_a_childs_case_and_the_office_asked_to_screen_may_answer_it() -> None:
    case = opened(person={"date_of_birth": CHILD_DOB})
    assert authority.lead_office(case.s) == "uptd_ppa_banjar"
    # BP3MI took the intake and was asked to screen: its outcome is its answer to that referral.
    authority.check(case.s, event(CASE_ID, "identification.screening_completed", outcome="presumed_victim"),
                    sender("bp3mi_kalsel"))
    assert refusal(case, "case.contact_lost", "bp3mi_kalsel").code == "not_allowed"


@pytest.mark.branch("transfer")
def test_a_transfer_moves_the_lead_to_the_office_found_for_the_new_place() -> None:
    case = opened()
    effects = case.send("case.transferred", source="bp3mi_kalsel", province="JATIM")
    assert [e.kind for e in effects if type(e).__name__ == "FindLead"] == ["bp3mi"]
    assert authority.lead_office(case.s) is None  # until found: operators decide
    assert refusal(case, "case.contact_lost", "bp3mi_kalsel").code == "not_allowed"
    authority.found_lead(case.s, "bp3mi_jatim")
    assert authority.lead_office(case.s) == "bp3mi_jatim"


def test_an_office_that_received_a_notice_is_a_party() -> None:
    case = opened()
    assert "gugus_tugas_kalsel" not in authority.parties(case.s)
    authority.notified(case.s, "gugus_tugas_kalsel")
    authority.check(case.s, event(CASE_ID, "referral.acknowledged", referral_id="R-none"),
                    sender("gugus_tugas_kalsel"))


def test_event_ids_are_kept_per_sending_office_and_compared_by_content() -> None:
    case = opened()
    ack = event(CASE_ID, "consent.recorded", event_id="sbx.X-R001.00", scope="services")
    lifecycle.apply(case.s, POLICY, ack, case.now, sender("bp3mi_kalsel"))
    assert authority.already_applied(case.s, sender("bp3mi_kalsel"), ack) is True
    # Another office's event under the same id is its own event: never swallowed as a duplicate.
    assert authority.already_applied(case.s, sender("ngo_kalsel"), ack) is None
    assert authority.already_applied(case.s, None, ack) is None
    # The same office, the same id, other content: a conflict, not a duplicate.
    other = event(CASE_ID, "consent.recorded", event_id="sbx.X-R001.00", scope="legal")
    assert authority.already_applied(case.s, sender("bp3mi_kalsel"), other) is False


def test_event_ids_applied_by_older_runs_stay_duplicates() -> None:
    case = opened()
    case.s.applied_event_ids.append("old-1")
    assert authority.already_applied(case.s, sender("ngo_kalsel"), event(CASE_ID, "case.contact_lost",
                                                                          event_id="old-1")) is True


def test_strings_and_lists_of_events_are_bounded() -> None:
    base = {"event_id": "e1", "case_id": CASE_ID, "occurred_at": "2026-11-27T08:00:00+08:00"}
    with pytest.raises(ValidationError, match="data.agency"):
        parse_event({**base, "type": "consent.withdrawn", "data": {"scope": "services", "agency": "x" * 60_000}})
    with pytest.raises(ValidationError, match="indicators"):
        parse_event({**base, "type": "identification.screening_completed",
                     "data": {"outcome": "presumed_victim", "indicators": ["x"] * 51}})
    with pytest.raises(ValidationError, match="occurred_at"):
        parse_event({**base, "occurred_at": 12345, "type": "case.contact_lost"})
    with pytest.raises(ValidationError, match="1990"):
        parse_event({**base, "occurred_at": "0001-01-01T00:00:00Z", "type": "case.contact_lost"})


def test_an_event_more_than_a_day_ahead_is_refused() -> None:
    case = opened()
    assert limits.occurred_at_refusal(case.now.replace(year=case.now.year + 1), case.now)
    assert limits.occurred_at_refusal(case.now, case.now) is None


def test_the_timeline_and_applied_keys_stay_bounded_however_many_events_arrive() -> None:
    case = opened()
    case.to_protection()
    mine = event(CASE_ID, "case.contact_lost", event_id="bp3mi-1")
    lifecycle.apply(case.s, POLICY, mine, case.now, sender("bp3mi_kalsel"))
    for n in range(3 * limits.APPLIED_KEPT_PER_SENDER):
        e = event(CASE_ID, "protection.shelter_admitted", event_id=f"e{n}", facility="x" * limits.NAME_MAX)
        lifecycle.apply(case.s, POLICY, e, case.now, sender("uptd_ppa_banjar"))
    assert len(case.s.timeline) == limits.TIMELINE_KEPT
    assert case.s.timeline_trimmed > 0
    assert sum(key.startswith("uptd_ppa_banjar|") for key in case.s.applied) == limits.APPLIED_KEPT_PER_SENDER
    assert limits.state_bytes(case.s) < limits.STATE_SOFT_MAX_BYTES
    # The newest are kept: a retry of the latest event is still a duplicate...
    assert authority.already_applied(case.s, sender("uptd_ppa_banjar"), e) is True
    # ...and one office's flood never pushes out another office's keys.
    assert authority.already_applied(case.s, sender("bp3mi_kalsel"), mine) is True


def test_an_event_sealed_before_the_ids_a_case_forgot_is_refused_not_applied_twice() -> None:
    """A sealed event copied from the history and sent again once its id has left the applied keys: refused,
    while every event sealed since, any other sender's, and a sender with nothing forgotten are taken."""
    from datetime import timedelta

    case = opened()
    case.to_protection()
    office, t0 = sender("uptd_ppa_banjar"), case.now.replace(microsecond=500_700)  # marks keep milliseconds
    first = event(CASE_ID, "protection.shelter_admitted", event_id="e0", facility="RPTC")
    lifecycle.apply(case.s, POLICY, first, case.now, office, sent_at=t0)
    assert authority.stale(case.s, office, t0, t0) is None  # nothing forgotten yet: its id still answers
    for n in range(1, limits.APPLIED_KEPT_PER_SENDER + 1):  # a hundred more within the minute
        e = event(CASE_ID, "protection.shelter_admitted", event_id=f"e{n}", facility="RPTC")
        lifecycle.apply(case.s, POLICY, e, case.now, office, sent_at=t0 + timedelta(milliseconds=500 * n))
    now = t0 + timedelta(minutes=1)
    assert authority.already_applied(case.s, office, first) is None  # its id is forgotten...
    assert case.s.applied_before == {"uptd_ppa_banjar": authority.epoch_ms(t0)}
    reason = authority.stale(case.s, office, t0, now)  # ...so the copy is refused
    assert reason and "cannot be told from one already applied" in reason
    assert authority.stale(case.s, office, t0 - timedelta(seconds=30), now)  # sealed even earlier: refused too
    assert authority.stale(case.s, office, t0 + timedelta(milliseconds=1), now) is None  # sealed since: taken
    assert authority.stale(case.s, sender("bp3mi_kalsel"), t0, now) is None  # another sender forgot nothing
    assert authority.stale(case.s, None, t0, now) is None  # nor did the operators


def test_an_event_must_be_sealed_lately_and_not_ahead_of_the_cases_time() -> None:
    """Whatever the case remembers (a case rolled back to an old state remembers little): an old copy, one sealed
    by an older sinergi (no time), or one from a clock far ahead is refused."""
    case = opened()
    now = case.now
    assert authority.stale(case.s, None, now - limits.SEALED_MAX_AGE, now) is None
    assert authority.stale(case.s, None, now + limits.SEALED_MAX_AHEAD, now) is None
    old = authority.stale(case.s, None, now - limits.SEALED_MAX_AGE - timedelta(seconds=1), now)
    assert old and "a copy, or held too long" in old
    ahead = authority.stale(case.s, sender("uptd_ppa_banjar"), now + limits.SEALED_MAX_AHEAD + timedelta(seconds=1),
                            now)
    assert ahead and "check the clock" in ahead
    assert "no time of sealing" in authority.stale(case.s, None, None, now)


def test_a_timeline_note_and_a_kept_reason_are_clipped() -> None:
    case = opened()
    case.s.note(case.now, "event", "x" * 10_000)
    assert len(case.s.timeline[-1].text) == limits.NOTE_MAX


@pytest.mark.branch("consent_withdrawn")
def test_consent_is_withheld_from_at_most_fifty_offices_then_withdrawn_for_all() -> None:
    case = opened()
    for n in range(limits.ITEMS_MAX):
        case.send("consent.withdrawn", scope="data_sharing", agency=f"office_{n:03d}_" + "x" * 80)
    refused = case.refused("consent.withdrawn", scope="data_sharing", agency="one_more")
    assert "withdraw it for all" in refused.reason
    case.send("consent.withdrawn", scope="data_sharing", agency="office_000_" + "x" * 80)  # known: fine
    assert len(case.s.consent.withheld_from) == limits.ITEMS_MAX


def test_years_of_follow_ups_with_every_deadline_firing_keep_the_state_small() -> None:
    case = opened()
    case.to_reintegration()
    case.send("reintegration.plan_agreed")

    def rest() -> int:  # all but what `limits.compact` trims
        return len(case.s.model_dump_json(exclude={"timeline", "applied"}))

    sizes, rests = [], []
    for month in range(10 * 12):
        case.later(days=30)
        for key, clock in list(case.s.clocks.items()):  # every timer that is due fires, rungs included
            while clock.state in ("running", "breached") and clock.due_at <= case.now:
                before = (clock.state, clock.rungs_done)
                if clock.state == "running":
                    case.expire(key)
                else:
                    clocks.escalate(case.s, POLICY, key, case.now)
                if (clock.state, clock.rungs_done) == before:
                    break
        case.send("reintegration.followup_completed", wellbeing="at_risk" if month % 7 else "stable")
        sizes.append(limits.state_bytes(case.s))
        rests.append(rest())
    assert max(sizes) < limits.STATE_SOFT_MAX_BYTES
    # Counters gain a digit now and then; nothing else may grow (the timeline and applied keys are trimmed).
    assert rests[-1] - rests[12] < 16, "something besides the trimmed timeline and applied keys grows with time"
    assert len(case.s.timeline) == limits.TIMELINE_KEPT and case.s.timeline_trimmed > 0


def test_an_office_that_declined_the_screening_neither_leads_nor_gives_the_outcome() -> None:
    # Review: the screening office declined, the screening went elsewhere, and the decliner then closed a
    # child's case as "not a victim".
    case = opened(person={"date_of_birth": CHILD_DOB})
    screening = case.referral("screening")
    assert screening.office == "bp3mi_kalsel"
    case.send("referral.declined", source="bp3mi_kalsel", referral_id=screening.referral_id, reason="not ours")
    case.deliver()
    assert refusal(case, "identification.screening_completed", "bp3mi_kalsel", outcome="not_victim").code == \
        "not_allowed"


def test_the_lead_that_declines_its_screening_leads_no_more_and_the_new_screener_does() -> None:
    case = opened()
    screening = case.referral("screening")
    case.send("referral.declined", source="bp3mi_kalsel", referral_id=screening.referral_id, reason="not ours")
    assert authority.lead_office(case.s) is None
    assert refusal(case, "case.contact_lost", "bp3mi_kalsel").code == "not_allowed"
    reached = case.deliver()
    assert authority.lead_office(case.s) == reached[-1] != "bp3mi_kalsel"


def test_only_the_lead_or_the_reintegration_office_completes_reintegration() -> None:
    case = opened()
    case.to_reintegration()
    case.send("reintegration.plan_agreed")
    family = case.referral("family_reintegration")
    authority.notified(case.s, "ngo_kalsel")  # a party whose agreement allows reintegration.*, asked nothing
    refused = refusal(case, "reintegration.completed", "ngo_kalsel")
    assert refused.code == "not_allowed" and "lead office (bp3mi_kalsel)" in refused.reason
    authority.check(case.s, event(CASE_ID, "reintegration.followup_completed", wellbeing="stable"),
                    sender("ngo_kalsel"))  # what is not a decision, its agreement allows
    authority.check(case.s, event(CASE_ID, "reintegration.completed"), sender(family.office))
    authority.check(case.s, event(CASE_ID, "reintegration.completed"), sender("bp3mi_kalsel"))  # the lead


def test_a_lead_moving_the_case_back_and_forth_cannot_grow_it() -> None:
    # Review: 100 transfers between two regencies of one province grew the state past 160 KiB; "needs
    # more info" again and again left a new screening deadline each time.
    case = opened()
    sizes = []
    for n in range(400):
        if n % 2:
            effects = case.send("case.transferred", province="KALSEL",
                                regency=("Kota Banjarmasin", "Kabupaten Banjar")[n % 4 // 2])
            case.deliver(effects)
            authority.found_lead(case.s, "bp3mi_kalsel")
        else:
            case.send("identification.screening_completed", outcome="needs_more_info")
        limits.compact(case.s)
        sizes.append(limits.state_bytes(case.s))
    assert len(case.s.referrals) <= limits.ENDED_KEPT + 10
    assert len(case.s.clocks) <= limits.ENDED_KEPT + 10
    assert max(sizes) < limits.STATE_SOFT_MAX_BYTES
    assert sizes[-1] <= sizes[200] * 1.05, "the state keeps growing"
