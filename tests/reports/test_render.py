"""The formats: json and csv in SPEC's shape, xlsx one sheet per table, html one self-contained printable page.

The same whatever the database: checked on SQLite.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta, timezone

import pytest
from openpyxl import load_workbook
from report_kit import C1, JAN, NOV, NOW, T1_LAW, T11_LAW

from sinergi.reports import Scope, collect, collect_access
from sinergi.reports.render import render, resolve_language, rows_of

WITA = timezone(timedelta(hours=8), "WITA")
SCOPE = Scope(NOV, JAN, "KALSEL", zone=WITA, now=NOW)


@pytest.fixture(scope="module")
def meeting(sqlite_record):
    return collect(sqlite_record.engine, "offices", SCOPE, committed={"uptd_ppa_kalsel": timedelta(hours=24)},
                   meeting=True)


@pytest.mark.parametrize("kind", ["offices", "breaches", "cases"])
def test_json_is_the_reports_own_table_in_specs_shape(sqlite_record, kind):
    found = collect(sqlite_record.engine, kind, SCOPE)
    assert json.loads(render(found, "json")) == rows_of(found.main)


def test_csv_has_the_json_keys_as_header_and_one_line_per_row(sqlite_record):
    found = collect(sqlite_record.engine, "offices", SCOPE)
    lines = list(csv.DictReader(io.StringIO(render(found, "csv"))))
    expected = rows_of(found.main)
    assert [line["office"] for line in lines] == [row["office"] for row in expected]
    assert list(lines[0]) == list(expected[0])
    assert lines[1]["decline_reasons"] == "not_coded=1"
    assert lines[0]["accept_hours_p50"] == ""  # none accepted: empty, not "None"


def test_xlsx_has_one_sheet_per_table_with_its_rows(meeting):
    book = load_workbook(io.BytesIO(render(meeting, "xlsx", "en")))
    assert book.sheetnames == ["Offices", "Deadlines missed", "Missed by month", "Cases", "Exploitation",
                               "Children and adults"]
    offices = [[cell.value for cell in row] for row in book["Offices"].iter_rows()]
    assert offices[0][:3] == ["Office", "Kind", "Referrals"]
    assert [row[:4] for row in offices[1:]] == [["dinsos_kalsel", "dinsos", 2, 1],
                                                ["uptd_ppa_kalsel", "uptd_ppa", 3, 3]]
    breaches = [[cell.value for cell in row] for row in book["Deadlines missed"].iter_rows(min_row=2)]
    assert [row[:2] for row in breaches] == [["T1", T1_LAW], ["T11", T11_LAW],
                                             ["S3", "sinergi default (no statute)"]]


def test_xlsx_speaks_indonesian_by_default(meeting):
    book = load_workbook(io.BytesIO(render(meeting, "xlsx")))
    assert book.sheetnames[:2] == ["Kantor", "Tenggat terlewati"]
    assert [cell.value for cell in book["Kasus"][1]][:3] == ["Bulan", "Tahap", "Kabupaten/kota"]


def test_html_is_one_page_that_needs_nothing_from_elsewhere(meeting):
    page = render(meeting, "html", "id")
    assert page.startswith("<!DOCTYPE html>")
    assert "http" not in page and "//" not in re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    assert "<script" not in page.lower()
    assert not re.search(r"""(?:src|href)\s*=""", page)
    assert page.count("<svg") == 3  # per office, breaches by month, cases by stage and regency
    assert "@page" in page  # printable: A4 landscape


def test_html_cites_the_law_of_each_missed_deadline(meeting):
    page = render(meeting, "html", "id")
    assert T1_LAW in page and T11_LAW in page
    assert "T1 — UU 21/2007 Art. 52(1)" in page  # the chart's legend


def test_html_is_in_the_language_asked_for(meeting):
    indonesian, english = render(meeting, "html", "id"), render(meeting, "html", "en")
    assert '<html lang="id">' in indonesian and '<html lang="en">' in english
    assert "Laporan rapat koordinasi: rujukan, tenggat, dan kasus" in indonesian
    assert "Coordination meeting report: referrals, deadlines and cases" in english
    assert "Tenggat yang terlewati" in indonesian and "pelanggaran" in indonesian and "eskalasi" in indonesian
    assert "15 Januari 2027 08.00 WITA" in indonesian and "15 January 2027 08:00 WITA" in english
    assert "Coordination meeting" not in indonesian


def test_html_puts_the_report_asked_for_first(sqlite_record):
    page = render(collect(sqlite_record.engine, "breaches", SCOPE, meeting=True), "html", "en")
    assert page.index('id="breaches"') < page.index('id="offices"') < page.index('id="cases"')


def test_the_access_page_lists_field_names_never_values(sqlite_record):
    page = render(collect_access(sqlite_record.engine, C1, SCOPE), "html", "id")
    assert "person.full_name" in page and "halaman rujukan" in page and C1 in page
    assert "Siti" not in page
    assert "UU 27/2022" in page


def test_the_table_shows_every_section_with_translated_words(meeting):
    text = render(meeting, "table", "id")
    for title in ("Kantor: tanggapan atas rujukan", "Tenggat yang terlewati, per bulan", "Anak dan dewasa"):
        assert title in text
    assert "belum berkode: 1" in text and "pelindungan" in text


@pytest.mark.parametrize(("explicit", "env", "expected"), [
    ("en", {"SINERGI_LANG": "id"}, "en"),
    (None, {"SINERGI_LANG": "en"}, "en"),
    (None, {"LANG": "en_GB.UTF-8"}, "en"),
    (None, {"LC_ALL": "id_ID.UTF-8", "LANG": "en_US.UTF-8"}, "id"),
    (None, {"LANG": "id_ID.UTF-8"}, "id"),
    (None, {"LANG": "C.UTF-8"}, "en"),
    (None, {}, "en"),
])
def test_the_language_is_asked_for_else_set_else_the_locales_else_english(explicit, env, expected):
    # SPEC "Language": the CLI's rule; the deployment's `[ui] language` comes before the locale (tests/unit).
    assert resolve_language(explicit, env) == expected


def test_a_language_we_do_not_have_is_refused():
    with pytest.raises(ValueError, match="expected one of id, en"):
        resolve_language(None, {"SINERGI_LANG": "fr"})
