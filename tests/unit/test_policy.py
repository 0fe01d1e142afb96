"""The shipped policies carry every clock of DOMAIN §4; a bad policy file is refused precisely."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sinergi.domain.durations import Duration
from sinergi.domain.policy import Policy
from sinergi.policies import PolicyError, load_policy

# DOMAIN.md §4, as written there: id -> (durations, source, tag). S4 is ours (the accept/decline step
# of the referral handshake DOMAIN §5 describes); it is not in the §4 table.
DOMAIN_CLOCKS: dict[str, tuple[list[str], str, str]] = {
    "T1": (["7d"], "UU 21/2007 Art. 52(1)", "law"),
    "T2": (["7d"], "UU 21/2007 Art. 53", "law"),
    "T3": (["7d"], "UU 13/2006 Art. 29 (am. UU 31/2014)", "law"),
    "T4": (["30d"], "LPSK statements", "practice"),
    "T11": (["72h"], "UU 12/2022 Art. 41", "law"),
    "T12": (["24h"], "UU 12/2022 Art. 42(1)", "law"),
    "T6": (["30d"], "PERMA 1/2022 Art. 30(5)", "law"),
    "T15": (["3wd"], "local service standard", "practice"),
    "T17": (["30d"], "Council of Europe Convention Art. 13", "benchmark"),
    "S1": (["3d"], "—", "default"),
    "S2": (["24h"], "—", "default"),
    "S3": (["24h"], "—", "default"),
    "T23": (["30d", "91d", "182d", "365d"], "none found", "default"),  # 1, 3, 6, 12 months
    "T21": (["72h"], "UU 27/2022 (PDP)", "law"),
}
ALL_IDS = [*DOMAIN_CLOCKS, "S4"]

DEFAULT = load_policy("default")
DEMO = load_policy("demo")
SHIPPED = Path(__file__).parents[2] / "sinergi" / "policies" / "default.toml"


def words_in_order(needle: str, haystack: str) -> bool:
    """Every word of `needle` appears in `haystack`, in order (a source may be spelt out more fully)."""
    rest = iter(haystack.split())
    return all(any(word == w for w in rest) for word in needle.split())


@pytest.mark.parametrize("name", ["default", "demo"])
def test_the_shipped_policies_load(name: str) -> None:
    policy = load_policy(name)
    assert policy.name == name
    assert sorted(c.id for c in policy.clocks) == sorted(ALL_IDS)


def test_a_policy_loads_from_a_file_path_named_after_its_file(tmp_path: Path) -> None:
    path = tmp_path / "kalsel.toml"
    path.write_text(SHIPPED.read_text("utf-8").replace('name = "default"\n', ""), "utf-8")
    assert load_policy(path).name == "kalsel"
    assert load_policy(str(path)).clocks == DEFAULT.clocks


@pytest.mark.parametrize(
    "clock_id", [pytest.param(cid, marks=pytest.mark.rule(cid), id=cid) for cid in DOMAIN_CLOCKS])
def test_every_domain_clock_is_in_the_default_policy_with_its_source_tag_and_duration(clock_id: str) -> None:
    durations, source, tag = DOMAIN_CLOCKS[clock_id]
    rule = DEFAULT.clock(clock_id)
    assert rule.tag == tag
    assert [d.text for d in rule.durations] == durations
    if source == "—":
        assert rule.source == "sinergi default (no statute)"
    elif source == "none found":
        assert "no source found" in rule.source
    else:
        assert words_in_order(source, rule.source), f"{rule.source!r} does not cite {source!r}"
    assert rule.label == f"{clock_id} {rule.source}"


@pytest.mark.parametrize("clock_id", ALL_IDS)
def test_a_clock_is_statutory_exactly_when_its_tag_is_law(clock_id: str) -> None:
    rule = DEFAULT.clock(clock_id)
    assert (rule.kind == "statutory") is (rule.tag == "law")


@pytest.mark.parametrize("clock_id", ALL_IDS)
def test_every_clock_but_a_period_stops_on_an_event_and_escalates(clock_id: str) -> None:
    rule = DEFAULT.clock(clock_id)
    if rule.period:
        assert not rule.stops_on and not rule.escalation
    else:
        assert rule.stops_on and rule.escalation
        assert rule.escalation[0].after_seconds == 0, "the first rung is told at once"


@pytest.mark.rule("T1")
def test_t1_runs_per_requested_service_and_pauses_with_the_victim() -> None:
    rule = DEFAULT.clock("T1")
    assert (rule.starts_on, rule.stops_on, rule.scope) == (
        ["rehabilitation.request_filed"], ["rehabilitation.service_started"], "service")
    assert rule.victim_dependent


@pytest.mark.rule("T3")
@pytest.mark.rule("T4")
def test_t3_and_t4_both_run_from_the_lpsk_application_to_the_decision() -> None:
    for clock_id in ("T3", "T4"):
        rule = DEFAULT.clock(clock_id)
        assert (rule.starts_on, rule.stops_on) == (["protection.lpsk_application_filed"], ["protection.lpsk_decision"])


@pytest.mark.rule("T11")
@pytest.mark.rule("T12")
def test_t11_and_t12_apply_only_to_sexual_exploitation_cases() -> None:
    assert DEFAULT.clock("T11").when == DEFAULT.clock("T12").when == "sexual_exploitation"
    assert DEFAULT.clock("T12").starts_on == ["identification.police_report_filed"]


@pytest.mark.rule("T17")
def test_the_reflection_period_is_a_period_not_a_deadline() -> None:
    rule = DEFAULT.clock("T17")
    assert rule.period and rule.kind == "operational"
    assert rule.starts_on == ["identification.screening_completed:presumed_victim"]


@pytest.mark.rule("T23")
def test_follow_ups_are_one_clock_with_a_series_of_durations() -> None:
    rule = DEFAULT.clock("T23")
    assert rule.scope == "followup"
    assert [d.seconds // 86400 for d in rule.durations] == [30, 91, 182, 365]


@pytest.mark.rule("T1")
@pytest.mark.rule("T2")
@pytest.mark.rule("T3")
def test_the_statutory_ladder_climbs_from_the_unit_to_the_province_task_force() -> None:
    for clock_id in ("T1", "T2", "T3"):
        ladder = DEFAULT.clock(clock_id).escalation
        assert [r.role for r in ladder] == ["unit head", "parent office head", "regency task force",
                                            "province task force"]
        assert [(r.agency, r.level) for r in ladder[2:]] == [("gugus_tugas", "regency"), ("gugus_tugas", "province")]


def test_contact_lost_has_a_configured_number_of_attempts() -> None:
    assert DEFAULT.contact_lost.max_attempts == 3
    assert DEFAULT.contact_lost.attempt_seconds == 72 * 3600
    assert DEFAULT.contact_lost.escalate_to == "gugus_tugas"


def shape(policy: Policy) -> list[tuple]:
    """Everything of a policy but its durations."""
    return [(c.id, c.title, c.starts_on, c.stops_on, c.kind, c.tag, c.source, c.scope, c.responsible, c.when,
             c.victim_dependent, c.period, [(r.role, r.agency, r.level) for r in c.escalation])
            for c in policy.clocks]


def test_the_demo_policy_differs_from_the_default_only_in_durations() -> None:
    assert shape(DEMO) == shape(DEFAULT)
    assert DEMO.contact_lost.max_attempts == DEFAULT.contact_lost.max_attempts
    assert DEMO.contact_lost.source == DEFAULT.contact_lost.source


@pytest.mark.parametrize("clock_id", ALL_IDS)
def test_every_demo_duration_is_in_seconds_and_under_two_minutes(clock_id: str) -> None:
    rule = DEMO.clock(clock_id)
    texts = [d.text for d in rule.durations] + [r.after for r in rule.escalation]
    for text in texts:
        assert text.endswith("s") and not text.endswith("ws"), text
        assert Duration(text).seconds < 120, text
    assert len(rule.durations) == len(DEFAULT.clock(clock_id).durations)
    assert DEMO.contact_lost.attempt_every.endswith("s") and DEMO.contact_lost.attempt_seconds < 120


def test_demo_follow_ups_keep_their_order() -> None:
    seconds = [d.seconds for d in DEMO.clock("T23").durations]
    assert seconds == sorted(seconds) and len(set(seconds)) == len(seconds)


# --- bad policy files ------------------------------------------------------------------------------

GOOD = """\
name = "test"

[clocks.T1]
title = "services start after an Art. 51 request"
duration = "7d"
starts_on = ["rehabilitation.request_filed"]
stops_on = ["rehabilitation.service_started"]
kind = "statutory"
tag = "law"
source = "UU 21/2007 Art. 52(1)"
scope = "service"
escalation = [{ role = "unit head", agency = "responsible", after = "0s" }]
"""


def refused(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    message = str(info.value)
    assert str(path) in message, "the error names the file"
    return message


def test_the_good_example_policy_loads(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(GOOD, "utf-8")
    assert load_policy(path).clock("T1").durations[0].seconds == 7 * 86400


def test_a_bad_duration_names_the_file_and_the_clock_key(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('duration = "7d"', 'duration = "7 days"'))
    assert "clocks.T1.duration" in message and "'7 days' is not a duration" in message


def test_a_bad_duration_in_a_series_names_the_clock_key(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('duration = "7d"', 'duration = ["30d", "a month"]')
                      .replace('scope = "service"', 'scope = "followup"'))
    assert "clocks.T1.duration" in message and "'a month'" in message


def test_a_bad_escalation_wait_names_the_rung(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('after = "0s"', 'after = "3wd"'))
    assert "clocks.T1.escalation.0.after" in message and "working days are not allowed" in message


def test_a_missing_stops_on_names_the_clock_key(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('stops_on = ["rehabilitation.service_started"]\n', ""))
    assert "clocks.T1" in message and "stops_on is empty" in message


def test_a_clock_defined_twice_is_refused_naming_it(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD + GOOD.split("\n", 1)[1])
    assert "('clocks', 'T1')" in message


def test_an_id_that_contradicts_the_table_key_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD + GOOD.split("\n", 1)[1].replace("[clocks.T1]", '[clocks.T9]\nid = "T1"'))
    assert "clocks.T9" in message and "its id is the table key" in message


def test_a_clock_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    assert "clocks.T1: expected a [clocks.T1] table" in refused(tmp_path, '[clocks]\nT1 = "7d"\n')


def test_toml_syntax_errors_name_the_file_and_the_line(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace("[clocks.T1]", "[clocks.T1"))
    assert "not valid TOML" in message and "line 3" in message


def test_an_unknown_key_names_the_clock_and_the_key(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('tag = "law"', 'tag = "law"\ndeadline = "7d"'))
    assert "clocks.T1.deadline" in message


def test_an_unknown_kind_or_tag_is_named(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('kind = "statutory"', 'kind = "mandatory"').replace(
        'tag = "law"', 'tag = "statute"'))
    assert "clocks.T1.kind" in message and "clocks.T1.tag" in message


def test_a_misspelt_trigger_is_refused_rather_than_never_firing(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('"rehabilitation.service_started"', '"rehabilitation.service_begun"'))
    assert "clocks.T1.stops_on" in message and "'rehabilitation.service_begun' is not an event type" in message


def test_a_trigger_qualifier_must_be_an_outcome_of_that_event(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('starts_on = ["rehabilitation.request_filed"]',
                                             'starts_on = ["identification.screening_completed:presumed"]'))
    assert "clocks.T1.starts_on" in message and "presumed_victim" in message


def test_the_internal_referral_sent_trigger_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(GOOD.replace('starts_on = ["rehabilitation.request_filed"]', 'starts_on = ["referral.sent"]'))
    assert load_policy(path).clock("T1").starts_on == ["referral.sent"]


def test_a_list_of_durations_needs_the_followup_scope(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('duration = "7d"', 'duration = ["7d", "14d"]'))
    assert "clocks.T1" in message and "scope = 'followup'" in message


def test_a_bad_contact_lost_interval_is_refused_when_loading(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD + '\n[contact_lost]\nattempt_every = "3 days"\n')
    assert "contact_lost.attempt_every" in message


def test_a_missing_policy_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy(tmp_path / "nowhere.toml")


def test_every_error_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('duration = "7d"', 'duration = "soon"').replace(
        'kind = "statutory"', 'kind = "urgent"'))
    assert len(message.splitlines()) == 2


# --- one instance per distinct policy (worker memory, bench/memory.py) ----------------------------------


def test_cases_opened_under_equal_policies_share_one_instance() -> None:
    from sinergi.domain.case import CaseInput
    from sinergi.testing.cases import intake

    wire = CaseInput(case_id="A", intake=intake(), policy=load_policy("default")).model_dump_json()
    first, second = CaseInput.model_validate_json(wire), CaseInput.model_validate_json(wire)

    assert first.policy is second.policy
    assert first.policy == DEFAULT


def test_a_case_keeps_its_own_policy_when_it_differs() -> None:
    from sinergi.domain.case import CaseInput
    from sinergi.testing.cases import intake

    stricter = DEFAULT.model_copy(update={"name": "stricter"})
    a = CaseInput(case_id="A", intake=intake(), policy=DEFAULT)
    b = CaseInput(case_id="B", intake=intake(), policy=stricter)

    assert a.policy is not b.policy
    assert b.policy.name == "stricter"
    assert a.policy.name == DEFAULT.name


def test_sharing_is_bounded_so_generated_policies_cannot_grow_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    from sinergi.domain import policy as module

    monkeypatch.setattr(module, "_SHARED", {})
    monkeypatch.setattr(module, "_SHARED_MAX", 2)
    made = [DEFAULT.model_copy(update={"name": f"p{i}"}) for i in range(4)]

    kept = [module.shared(p) for p in made]

    assert len(module._SHARED) == 2
    assert kept == made  # past the bound each policy is still used as given, equal and unchanged
    assert module.shared(made[0].model_copy()) is made[0]


# --- working days: national holidays and cuti bersama ---------------------------------------------

TODAY = date(2026, 11, 28)
WORKING = GOOD.replace('duration = "7d"', 'duration = "3wd"')


def load_text(tmp_path: Path, text: str, today: date = TODAY) -> Policy:
    path = tmp_path / "policy.toml"
    path.write_text(text, "utf-8")
    return load_policy(path, today=today)


@pytest.mark.rule("T15")
def test_working_days_off_are_the_national_holidays_and_cuti_bersama_of_the_years_around_today() -> None:
    days = load_policy("default", today=TODAY).working_days.days_off
    assert {date(2026, 3, 19), date(2026, 3, 21), date(2026, 8, 17), date(2026, 12, 25)} <= set(days)  # Nyepi,
    # Idul Fitri, Independence Day, Christmas; and the cuti bersama around Lebaran and Christmas (SKB 2026):
    assert {date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 24), date(2026, 12, 24)} <= set(days)
    assert (days[0].year, days[-1].year) == (2025, 2029) and days == sorted(set(days))
    assert date(2026, 3, 25) not in days and date(2026, 11, 30) not in days
    assert load_policy("default", today=date(2030, 1, 1)).working_days.days_off[0].year == 2029


def test_without_joint_leave_only_the_national_holidays_are_days_off(tmp_path: Path) -> None:
    days = set(load_text(tmp_path, WORKING + "\n[working_days]\njoint_leave = false\n").working_days.days_off)
    assert date(2026, 3, 19) in days and not {date(2026, 3, 20), date(2026, 3, 23)} & days


def test_a_policy_adds_its_own_days_off_or_lists_them_all(tmp_path: Path) -> None:
    added = load_text(tmp_path, WORKING + '\n[working_days]\nextra_days_off = [2026-09-09]\n').working_days
    assert date(2026, 9, 9) in added.days_off and date(2026, 8, 17) in added.days_off
    listed = load_text(tmp_path, WORKING + '\n[working_days]\ndays_off = [2026-09-09]\n'
                                          'extra_days_off = [2026-09-10]\n').working_days
    assert listed.days_off == [date(2026, 9, 9), date(2026, 9, 10)]
    none = load_text(tmp_path, WORKING + '\n[working_days]\ncalendar = ""\n').working_days
    assert none.days_off == []


def test_a_policy_whose_clocks_count_no_working_days_carries_no_days_off(tmp_path: Path) -> None:
    assert load_text(tmp_path, GOOD).working_days.days_off == []
    assert DEMO.working_days.days_off == []


def test_an_unknown_calendar_names_the_file_and_the_key(tmp_path: Path) -> None:
    message = refused(tmp_path, WORKING + '\n[working_days]\ncalendar = "XX"\n')
    assert "working_days.calendar" in message and "'XX'" in message


def test_a_case_opened_before_days_off_existed_keeps_counting_weekends_only() -> None:
    # Its policy as an older history's workflow input holds it: no `working_days` at all. Its T15 clock,
    # started on the eve of Lebaran 2026, keeps the due date it had (Monday 23 March, not Friday 27).
    from sinergi.domain import lifecycle
    from sinergi.domain.case import CaseInput
    from sinergi.testing.cases import intake

    older = Policy.model_validate(load_policy("default", today=TODAY).model_dump(exclude={"working_days"}))
    eve = datetime(2026, 3, 18, 2, 0, tzinfo=UTC)  # Wednesday 10:00 WITA
    complaint = intake(situation={"location_country": "ID"}, source={"agency": "uptd_ppa", "channel": "complaint"})
    due = {}
    for name, policy in (("older", older), ("current", load_policy("default", today=TODAY))):
        state, _ = lifecycle.open_case(CaseInput(case_id="KALSEL-2026-7Q2M9XKD", intake=complaint, policy=policy), eve)
        due[name] = next(c.due_at for c in state.clocks.values() if c.clock_id == "T15")
    assert due == {"older": datetime(2026, 3, 23, 2, 0, tzinfo=UTC), "current": datetime(2026, 3, 27, 2, 0, tzinfo=UTC)}


def test_policy_show_says_what_a_working_day_is_and_where_its_days_off_come_from() -> None:
    text = load_policy("default", today=TODAY).working_days.summary
    # (how many days: as many as the holidays library lists for those years)
    assert re.search(r"except \d{2,3} days off 2025-2029 \(calendar ID, with cuti bersama; Keppres", text), text
    assert DEMO.working_days.summary.endswith("weekends only")
