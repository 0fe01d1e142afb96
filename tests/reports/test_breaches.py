"""`report breaches`: missed deadlines by rule and law, by month, with the escalation reached (`report_kit`)."""

from __future__ import annotations

from report_kit import DEC, JAN, NOV, S3_SOURCE, T1_LAW, T11_LAW

from sinergi.reports import breaches


def rows(found) -> list[dict]:
    return [row.model_dump() for row in found.rows]


def test_breaches_come_first_most_missed_first_with_their_law_cases_offices_and_highest_rung(record):
    assert rows(breaches(record.engine)) == [
        {"clock": "T1", "source": T1_LAW, "kind": "breach", "breaches": 3, "cases": 3,
         "offices": ["dinsos_kalsel", "dinsos_kaltim"], "highest_rung": 2},
        {"clock": "T11", "source": T11_LAW, "kind": "breach", "breaches": 1, "cases": 1,
         "offices": ["uptd_ppa_kalsel"], "highest_rung": 3},
        {"clock": "S3", "source": S3_SOURCE, "kind": "warning", "breaches": 1, "cases": 1,
         "offices": ["dinsos_kalsel"], "highest_rung": 1},
    ]


def test_a_province_and_a_period_count_only_their_own_missed_deadlines(record):
    kalsel = rows(breaches(record.engine, province="KALSEL"))
    december = rows(breaches(record.engine, DEC, JAN, "KALSEL"))

    assert [(r["clock"], r["breaches"], r["cases"], r["offices"], r["highest_rung"]) for r in kalsel] == [
        ("T1", 2, 2, ["dinsos_kalsel"], 2), ("T11", 1, 1, ["uptd_ppa_kalsel"], 3), ("S3", 1, 1, ["dinsos_kalsel"], 1)]
    # C2's T1 breach on 2 December, escalated to its first rung only.
    assert december == [{"clock": "T1", "source": T1_LAW, "kind": "breach", "breaches": 1, "cases": 1,
                         "offices": ["dinsos_kalsel"], "highest_rung": 1}]


def test_missed_deadlines_by_month_for_the_chart(record):
    by_month = [(m.month, m.clock, m.kind, m.breaches) for m in breaches(record.engine, NOV, JAN, "KALSEL").by_month]
    assert by_month == [("2026-11", "S3", "warning", 1), ("2026-11", "T1", "breach", 1),
                        ("2026-11", "T11", "breach", 1), ("2026-12", "T1", "breach", 1)]


def test_nothing_missed_is_an_empty_report(record):
    found = breaches(record.engine, JAN, None, "KALSEL")
    assert (found.rows, found.by_month) == ([], [])
