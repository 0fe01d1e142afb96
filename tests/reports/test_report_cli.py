"""`sinergi report ...` and `sinergi export ctdc` through click, on a record named by `[records] url`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from report_kit import C1, sample_case

from sinergi.cli import cli


@pytest.fixture
def config(sqlite_record, tmp_path) -> Path:
    path = tmp_path / "sinergi.toml"
    path.write_text(f'[records]\nurl = "{sqlite_record.engine.url.render_as_string()}"\n')
    return path


def sinergi(config: Path, *args: str):
    return CliRunner().invoke(cli, list(args), env={"SINERGI_CONFIG": str(config), "SINERGI_LANG": "", "NO_COLOR": "1",
                                                    "LC_ALL": "", "LANG": ""})


def test_report_offices_json_is_specs_shape_with_the_agreements_committed_times(config):
    done = sinergi(config, "report", "offices", "--from", "2026-11-01", "--to", "2026-12-31", "--province", "KALSEL",
                   "--json")
    assert done.exit_code == 0, done.output
    rows = json.loads(done.output)
    assert [(r["office"], r["referrals"], r["late_ack"], r["late_answer"], r["committed_hours"]) for r in rows] == [
        ("dinsos_kalsel", 2, 1, 1, 24.0), ("uptd_ppa_kalsel", 3, 1, 1, 24.0)]
    assert {"office", "kind", "referrals", "acknowledged", "accepted", "declined", "completed", "ack_hours_p50",
            "ack_hours_p90", "accept_hours_p50", "late_ack", "late_answer", "decline_reasons"} <= set(rows[0])


def test_report_breaches_and_cases_in_csv(config):
    breaches = sinergi(config, "report", "breaches", "--format", "csv", "--province", "KALSEL")
    cases = sinergi(config, "report", "cases", "--format", "csv", "--from", "2026-11-01", "--to", "2026-12-31",
                    "--province", "KALSEL")
    assert breaches.exit_code == 0 and cases.exit_code == 0, breaches.output + cases.output
    assert [row["clock"] for row in csv.DictReader(io.StringIO(breaches.output))] == ["T1", "T11", "S3"]
    assert len(list(csv.DictReader(io.StringIO(cases.output)))) == 5


def test_report_offices_html_and_xlsx_are_written_to_the_output(config, tmp_path):
    page, book = tmp_path / "rapat.html", tmp_path / "rapat.xlsx"
    html = sinergi(config, "report", "offices", "--format", "html", "--output", str(page), "--lang", "en")
    # The deployment's language (`[ui] language`) when neither --lang nor SINERGI_LANG says otherwise.
    deployment = tmp_path / "kalsel.toml"
    deployment.write_text(config.read_text() + '[ui]\nlanguage = "id"\n')
    xlsx = sinergi(deployment, "report", "cases", "--format", "xlsx", "--output", str(book))
    assert html.exit_code == 0 and xlsx.exit_code == 0, html.output + xlsx.output
    assert f"wrote {page}" in html.output
    assert "Coordination meeting report" in page.read_text()
    assert load_workbook(book).sheetnames[0] == "Kasus"
    assert f"{book} ditulis (xlsx)" in xlsx.output


def test_report_access_names_each_office_and_field(config):
    done = sinergi(config, "report", "access", C1, "--json")
    assert done.exit_code == 0, done.output
    assert [(r["office"], r["how"]) for r in json.loads(done.output)] == [
        ("uptd_ppa_kalsel", "referral"), ("dinsos_kalsel", "page"), ("gugus_tugas_kalsel", "notice"),
        ("operator:ana", "decode"), ("operator:budi", "decode_masked")]


def test_mistakes_are_told_with_exit_code_2(config, tmp_path):
    unknown = sinergi(config, "report", "access", "KALSEL-2026-NOTACASE")
    binary = sinergi(config, "report", "offices", "--format", "xlsx")
    backwards = sinergi(config, "report", "cases", "--from", "2026-12-01", "--to", "2026-11-01")
    missing = tmp_path / "missing.toml"
    missing.write_text(f'[records]\nurl = "sqlite:///{tmp_path / "nowhere.db"}"\n')
    no_record = sinergi(missing, "report", "offices")

    assert [r.exit_code for r in (unknown, binary, backwards, no_record)] == [2, 2, 2, 2]
    assert "no case KALSEL-2026-NOTACASE" in unknown.output
    assert "give --output" in binary.output
    assert "is after --to" in backwards.output
    assert "no case record at" in no_record.output
    assert not (tmp_path / "nowhere.db").exists()  # a report never creates a record


def test_export_ctdc_writes_the_csv_and_says_what_was_generalised_and_suppressed(empty_record, tmp_path):
    empty_record.write([sample_case(f"KALSEL-2026-C{i:04d}", i) for i in range(60)])
    config = tmp_path / "sinergi.toml"
    config.write_text(f'[records]\nurl = "{empty_record.engine.url.render_as_string(hide_password=False)}"\n')
    output = tmp_path / "ctdc.csv"

    done = sinergi(config, "export", "ctdc", "--output", str(output), "--json")

    assert done.exit_code == 0, done.output
    summary = json.loads(done.output)
    rows = list(csv.DictReader(output.open()))
    assert summary["rows"] == len(rows) and summary["rows"] + summary["suppressed_rows"] == 60
    assert summary["k"] == 11 and isinstance(summary["generalised_cells"], int)
    text = sinergi(config, "export", "ctdc", "--k", "5", "--output", str(output))
    assert "cells" in text.output and "suppressed:" in text.output
