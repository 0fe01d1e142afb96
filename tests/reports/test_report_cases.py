"""`report cases`: cases by month, stage and regency; by exploitation; children and adults (`report_kit`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from report_kit import JAN, NOV, opened

from sinergi.records import StageChanged
from sinergi.reports import cases

WITA = timezone(timedelta(hours=8), "WITA")


def test_each_month_counts_each_case_once_in_the_stage_it_ended_the_month_in(record):
    rows = [tuple(r.model_dump().values()) for r in cases(record.engine, NOV, JAN, "KALSEL").rows]
    # period, stage, regency, opened, closed, open, children
    assert rows == [
        ("2026-11", "protection", "Kabupaten Banjar", 1, 0, 1, 1),
        ("2026-11", "protection", "Kota Banjarmasin", 1, 0, 1, 0),
        ("2026-12", "closed", "Kabupaten Banjar", 0, 1, 0, 1),
        ("2026-12", "identification", "Kota Banjarmasin", 1, 0, 1, 0),
        ("2026-12", "rehabilitation", "Kota Banjarmasin", 0, 0, 1, 0),
    ]


def test_a_case_closed_before_a_month_is_not_counted_in_it(record):
    rows = cases(record.engine, NOV, JAN + timedelta(days=31), "KALSEL").rows
    assert {(r.stage, r.regency) for r in rows if r.period == "2027-01"} == {
        ("identification", "Kota Banjarmasin"), ("rehabilitation", "Kota Banjarmasin")}


def test_cases_by_form_of_exploitation_count_a_case_under_each_of_its_forms(record):
    found = [r.model_dump() for r in cases(record.engine, NOV, JAN, "KALSEL").exploitation]
    assert found == [{"exploitation": "forced_labour", "cases": 2, "children": 1, "adults": 1},
                     {"exploitation": "sexual_exploitation", "cases": 2, "children": 0, "adults": 2}]


def test_children_and_adults_opened_closed_and_still_open(record):
    found = [r.model_dump() for r in cases(record.engine, NOV, JAN, "KALSEL").age_groups]
    assert found == [{"group": "child", "opened": 1, "closed": 1, "open": 0},
                     {"group": "adult", "opened": 2, "closed": 0, "open": 2}]


def test_every_province_and_no_period_runs_from_the_first_case_to_now(record):
    found = cases(record.engine, now=datetime(2026, 12, 15, tzinfo=UTC))
    assert sorted({r.period for r in found.rows}) == ["2026-11", "2026-12"]
    assert ("2026-11", "identification", "Kota Samarinda") in {(r.period, r.stage, r.regency) for r in found.rows}


def test_months_begin_and_end_in_the_zone_asked_for(empty_record):
    # 30 November 20:00 UTC is 1 December 04:00 in Kalimantan Selatan (WITA).
    late_evening = datetime(2026, 11, 30, 20, tzinfo=UTC)
    empty_record.write([opened("KALSEL-2026-Z1", late_evening, "KALSEL", "Kota Banjarbaru", 30),
                        StageChanged(case_id="KALSEL-2026-Z1", stage="protection", at=late_evening)])
    since, until = datetime(2026, 11, 1, tzinfo=WITA), datetime(2027, 1, 1, tzinfo=WITA)

    in_utc = cases(empty_record.engine, since, until, zone=UTC).rows
    in_wita = cases(empty_record.engine, since, until, zone=WITA).rows

    assert [(r.period, r.opened) for r in in_utc] == [("2026-11", 1), ("2026-12", 0)]
    assert [(r.period, r.opened) for r in in_wita] == [("2026-12", 1)]


def test_a_record_without_cases_is_an_empty_report(empty_record):
    found = cases(empty_record.engine)
    assert (found.rows, found.exploitation, found.age_groups) == ([], [], [])
