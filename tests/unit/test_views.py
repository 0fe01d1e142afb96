"""What a case shows (SPEC "JSON shapes"): status and why, with no personal data."""

from __future__ import annotations

import json

import pytest
from casebook import CHILD_DOB, DOMESTIC, POLICY, Case

from sinergi.domain import clocks, views
from sinergi.testing.cases import SAMPLE_DOB, SAMPLE_NAME, SAMPLE_PHONE

SPEC_STATUS_KEYS = {"case_id", "stage", "closed", "closure_reason", "province", "regency", "is_child", "referrals",
                    "clocks", "breaches", "escalations", "manual_tasks", "consent"}


def busy_case() -> Case:
    """A case with something in every list of the status: referrals, clocks, a breach, an escalation, a task."""
    case = Case(flags={"sexual_exploitation": True})
    case.deliver()
    case.send("referral.declined", referral_id=case.referral("protection_abroad").referral_id, reason="full")
    case.expire("T11")
    clocks.escalate(case.s, POLICY, "T11", case.now)
    return case


def status_json(case: Case) -> dict:
    return json.loads(views.status(case.s, POLICY).model_dump_json())


def test_the_status_has_every_spec_key() -> None:
    status = status_json(busy_case())
    assert set(status) >= SPEC_STATUS_KEYS
    assert status["case_id"] == "KALSEL-2026-7Q2M9XKD"
    assert (status["stage"], status["closed"], status["closure_reason"]) == ("identification", False, None)
    assert (status["province"], status["regency"], status["is_child"]) == ("KALSEL", "63.03", False)


def test_every_list_of_the_status_has_its_spec_keys() -> None:
    status = status_json(busy_case())
    for key, fields in [("referrals", {"referral_id", "agency", "service", "status", "due_at"}),
                        ("clocks", {"id", "kind", "source", "started_at", "due_at", "state"}),
                        ("breaches", {"clock", "source", "at"}),
                        ("escalations", {"clock", "rung", "agency", "at"}),
                        ("manual_tasks", {"id", "agency", "reason"})]:
        assert status[key], f"the busy case has {key}"
        for item in status[key]:
            assert fields <= set(item), (key, fields - set(item))
    assert status["consent"] == {"services": True, "data_sharing": True, "legal": True}


def test_status_values_read_as_the_spec_says() -> None:
    status = status_json(busy_case())
    police = next(r for r in status["referrals"] if r["service"] == "police_report")
    assert (police["agency"], police["status"]) == ("polda_kalsel", "sent")
    assert police["due_at"] is not None, "a sent referral shows when its acknowledgement is due"
    t11 = next(c for c in status["clocks"] if c["id"] == "T11")
    assert (t11["kind"], t11["source"], t11["state"]) == ("statutory", "UU 12/2022 Art. 41", "breached")
    assert {c["state"] for c in status["clocks"]} <= {"running", "stopped", "paused", "breached", "cancelled"}
    assert status["breaches"][0]["clock"] == "T11" and status["breaches"][0]["source"] == "UU 12/2022 Art. 41"
    assert [(e["clock"], e["rung"], e["agency"]) for e in status["escalations"]][-1] == ("T11", 1, "uptd_ppa")


def test_a_referral_not_yet_routed_shows_its_agency_kind() -> None:
    status = status_json(Case())
    assert [(r["service"], r["agency"], r["status"], r["due_at"]) for r in status["referrals"]] == [
        ("screening", "bp3mi", "pending", None), ("protection_abroad", "kbri", "pending", None)]


@pytest.mark.branch("child")
@pytest.mark.parametrize("overrides", [{}, {"person": {"date_of_birth": CHILD_DOB}}])
def test_the_status_json_holds_no_name_phone_or_date_of_birth_anywhere(overrides: dict) -> None:
    case = busy_case() if not overrides else Case(**overrides, flags={"sexual_exploitation": True})
    case.deliver()
    dob = case.intake.person.date_of_birth.isoformat()
    for text in (views.status(case.s, POLICY).model_dump_json(), views.why(case.s, POLICY).model_dump_json(),
                 views.timeline(case.s).model_dump_json()):
        for secret in (SAMPLE_NAME, SAMPLE_PHONE, dob, SAMPLE_DOB, "Siti"):
            assert secret not in text


def test_the_status_of_a_closed_case_gives_the_reason() -> None:
    case = Case()
    case.send("case.closed", reason="duplicate intake")
    status = status_json(case)
    assert (status["stage"], status["closed"], status["closure_reason"]) == ("closed", True, "duplicate intake")


def test_the_status_shows_paused_deadlines_and_flags() -> None:
    case = Case(flags={"sexual_exploitation": True})
    case.send("case.contact_lost")
    status = status_json(case)
    assert "paused:contact_lost" in status["flags"] and "sexual_exploitation" in status["flags"]
    assert next(c for c in status["clocks"] if c["id"] == "S1")["state"] == "paused"


def test_why_names_what_is_awaited_from_whom() -> None:
    case = Case(**DOMESTIC).to_protection()
    why = views.why(case.s, POLICY)
    shelter = case.referral("shelter").referral_id
    assert f"uptd_ppa_banjar: referral.acknowledged for {shelter} (shelter placement)" in why.waiting_on
    assert any(w.startswith("uptd_ppa: protection.shelter_admitted (S2") for w in why.waiting_on)


def test_why_gives_the_next_deadline_with_its_source() -> None:
    case = Case(**DOMESTIC, flags={"sexual_exploitation": True})
    deadline = views.why(case.s, POLICY).next_deadline
    assert deadline is not None
    assert (deadline.clock, deadline.source, deadline.kind) == ("T11", "UU 12/2022 Art. 41", "statutory")
    assert deadline.due_at == case.clock("T11").due_at and deadline.responsible == "uptd_ppa"


def test_why_lists_the_events_accepted_now() -> None:
    why = views.why(Case().s, POLICY)
    assert "identification.screening_completed" in why.accepted_events
    assert "reintegration.completed" not in why.accepted_events


@pytest.mark.branch("consent_withdrawn")
def test_why_says_a_held_referral_waits_for_consent() -> None:
    case = Case()
    case.send("consent.withdrawn", scope="data_sharing")
    waiting_on = views.why(case.s, POLICY).waiting_on
    assert any("the victim's consent to share data (consent.recorded)" in w for w in waiting_on)


@pytest.mark.branch("contact_lost")
def test_why_says_deadlines_are_paused_and_skips_them_as_next_deadline() -> None:
    case = Case(**DOMESTIC, flags={"sexual_exploitation": True})
    case.send("case.contact_lost")
    why = views.why(case.s, POLICY)
    assert "deadlines paused: contact_lost" in why.waiting_on
    assert why.next_deadline.clock == "T11"


def test_why_shows_the_last_delivery_error_and_open_manual_tasks() -> None:
    from sinergi.domain import delivery

    case = Case()
    rid = case.referral("protection_abroad").referral_id
    delivery.unreachable(case.s, rid, "kbri_kuala_lumpur", "connection refused", case.now)
    why = views.why(case.s, POLICY)
    assert why.last_error == "kbri_kuala_lumpur unreachable: connection refused"
    assert [t.agency for t in why.open_manual_tasks] == ["kbri_kuala_lumpur"]


def test_the_timeline_is_in_time_order() -> None:
    case = Case(**DOMESTIC).to_rehabilitation()
    entries = views.timeline(case.s).entries
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    assert entries[0].text == "case opened (bp3mi, debarkation)"


@pytest.mark.parametrize("make", [
    lambda: Case(**DOMESTIC).to_protection(),
    lambda: Case(**DOMESTIC, flags={"sexual_exploitation": True}),
    lambda: (lambda c: (c.send("consent.withdrawn", scope="data_sharing"), c)[1])(Case()),
    lambda: (lambda c: (c.send("case.contact_lost"), c)[1])(Case(**DOMESTIC)),
])
def test_what_a_case_waits_on_as_data_says_in_english_what_its_words_say(make) -> None:
    # `waiting` is `waiting_on` as data, so the CLI can say it in its reader's language (SPEC "Language").
    from sinergi.commands.language import speaking
    from sinergi.commands.views import waiting_text

    why = views.why(make().s, POLICY)
    assert why.waiting and len(why.waiting) == len(why.waiting_on)
    with speaking("en"):
        assert [waiting_text(item) for item in why.waiting] == why.waiting_on
    with speaking("id"):
        said = [waiting_text(item) for item in why.waiting]
    assert said != why.waiting_on
    assert all(any(w in s for w in ("untuk", "tenggat dijeda", "tim penanganan kasus", ":")) for s in said), said


def test_a_why_kept_by_older_code_is_shown_as_its_words() -> None:
    # A case record's kept view from before `waiting` existed: its English words, rather than nothing.
    from sinergi.commands.language import speaking
    from sinergi.commands.views import why_text

    why = views.why(Case(**DOMESTIC).to_protection().s, POLICY)
    old = views.CaseWhy.model_validate({k: v for k, v in why.model_dump(mode="json").items() if k != "waiting"})
    with speaking("id"):
        assert why.waiting_on[0] in why_text(old, "KALSEL")
        assert why.waiting_on[0] not in why_text(why, "KALSEL")
