"""A report in the format asked for: `table` | `json` | `csv` | `xlsx` | `html`.

`json` and `csv` are for programs: the report's own table in SPEC's shape, stable keys and values, never
translated. `table`, `xlsx` and `html` are for people, in their language (SPEC "Language"): every table of the
report, with translated headings and words; `xlsx` one worksheet per table; `html` one self-contained printable
page with inline CSS and SVG charts (the coordination meeting's page: offices, breaches and cases together).
Their words are the `reports` gettext catalogs (`locale/<lang>/LC_MESSAGES/reports.po`), compiled by the build.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_date, get_month_names
from babel.numbers import format_decimal
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from sinergi.platform.i18n import compiled_translations, local_datetime
from sinergi.reports import _charts, words
from sinergi.reports._report import Report, Section

Format = Literal["table", "json", "csv", "xlsx", "html"]
FORMATS: tuple[Format, ...] = ("table", "json", "csv", "xlsx", "html")
Language = Literal["id", "en"]
LANGUAGES: tuple[Language, ...] = ("id", "en")
DOMAIN = "reports"
HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
LOCALES = HERE / "locale"
# Columns whose values are words of the vocabulary (translated for people), not names of offices or rules.
WORD_COLUMNS = frozenset({"stage", "how", "group", "exploitation", "decline_reasons"})
STAGE_ORDER = ("identification", "protection", "rehabilitation", "repatriation", "reintegration")
CSS = TEMPLATES / "report.css"


def resolve_language(explicit: str | None, env: Mapping[str, str] | None = None) -> Language:
    """The CLI's rule (`sinergi.platform.languages`): `--lang`, else `SINERGI_LANG`, else the locale (`id_*` ->
    id), else English; the deployment's `[ui] language` is the CLI's to add. ValueError for a language we do not
    have."""
    from sinergi.platform.languages import resolve_language as resolve

    return resolve(explicit, os.environ if env is None else env)  # type: ignore[return-value]  # one of LANGUAGES


def render(report: Report, fmt: Format, language: Language = "id") -> str | bytes:
    """The report as text (every format but xlsx) or bytes (xlsx)."""
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return to_csv(report)
    speaker = Speaker(language, report)
    if fmt == "table":
        return speaker.table()
    if fmt == "xlsx":
        return speaker.xlsx()
    if fmt == "html":
        return speaker.html()
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def rows_of(section: Section) -> list[dict[str, Any]]:
    return [row.model_dump(mode="json") for row in section.rows]


def columns_of(section: Section) -> list[str]:
    return list(section.rows[0].__class__.model_fields) if section.rows else []


def to_json(report: Report) -> str:
    return json.dumps(rows_of(report.main), indent=2, ensure_ascii=False) + "\n"


def to_csv(report: Report) -> str:
    out = io.StringIO()
    section = report.main
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns_of(section))
    for row in rows_of(section):
        writer.writerow([_plain(value) for value in row.values()])
    return out.getvalue()


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


class Speaker:
    """The report in one language: its words, numbers and dates as a person there reads them."""

    def __init__(self, language: Language, report: Report) -> None:
        self.language = language
        self.report = report
        self.translations: Translations = compiled_translations(LOCALES, DOMAIN, language)
        self.zone = report.scope.zone

    def _(self, message: str) -> str:
        return self.translations.gettext(message)

    def number(self, value: float) -> str:
        return format_decimal(value, format="#,##0.##", locale=self.language)

    def word(self, value: str) -> str:
        return self._(words.VALUES[value]) if value in words.VALUES else value

    def cell(self, key: str, value: Any, *, for_sheet: bool = False) -> Any:
        """A value as shown: numbers stay numbers in a worksheet; None is a dash (empty in a worksheet)."""
        if value is None:
            return self._(words.UNKNOWN_REGENCY) if key == "regency" else ("" if for_sheet else "–")
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | float):
            return value if for_sheet else self.number(value)
        if isinstance(value, datetime):
            return local_datetime(value, self.zone, self.language)  # type: ignore[arg-type]  # a fixed offset
        if isinstance(value, list):
            return ", ".join(self.word(v) if key in WORD_COLUMNS else str(v) for v in value)
        if isinstance(value, dict):
            return "; ".join(f"{self.word(k)}: {self.number(v)}" for k, v in value.items())
        if key in WORD_COLUMNS or (key == "kind" and value in ("breach", "warning")):
            return self.word(value)
        return value

    def headers(self, section: Section) -> list[str]:
        return [self._(words.COLUMNS.get(column, column)) for column in columns_of(section)]

    def cells(self, section: Section, *, for_sheet: bool = False) -> list[list[Any]]:
        return [[self.cell(key, getattr(row, key), for_sheet=for_sheet) for key in columns_of(section)]
                for row in section.rows]

    def table(self) -> str:
        from sinergi.commands.console import table

        blocks = []
        for section in self.report.sections:
            title = self._(words.SECTION_TITLES[section.name])
            body = table(self.headers(section), self.cells(section)) if section.rows else self._(words.NOTHING)
            blocks.append(f"{title}\n{body}")
        return "\n\n".join(blocks) + "\n"

    def xlsx(self) -> bytes:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        book.remove(book.active)
        for section in self.report.sections:
            sheet = book.create_sheet(self._(words.SHEET_NAMES[section.name])[:31])
            sheet.append(self.headers(section) or [self._(words.NOTHING)])
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for row in self.cells(section, for_sheet=True):
                sheet.append(row)
            sheet.freeze_panes = "A2"
            for column in sheet.columns:
                width = max(len(str(c.value or "")) for c in column)
                sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 60)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def html(self) -> str:
        env = _environment(self.translations)
        context: dict[str, Any]
        if self.report.kind == "access":
            template, context = "access.html", {"case_id": self.report.case_id, "block": self._block("access")}
        else:
            template = "meeting.html"
            names = list(dict.fromkeys(s.name for s in self.report.sections))
            context = {"blocks": [self._block(name) for name in names if name in ("offices", "breaches", "cases")]}
        scope = self.report.scope
        # The period as dates, the last one included (`until` is the start of the day after).
        last_day = scope.until - timedelta(microseconds=1) if scope.until else None
        return env.get_template(template).render(
            language=self.language, css=Markup(CSS.read_text("utf-8")), province=scope.province,
            since=format_date(scope.since.astimezone(self.zone), "long", locale=self.language) if scope.since else None,
            until=format_date(last_day.astimezone(self.zone), "long", locale=self.language) if last_day else None,
            generated=local_datetime(scope.now, self.zone, self.language),  # type: ignore[arg-type]  # fixed offset
            **context)

    def _section(self, name: str) -> Section | None:
        return next((s for s in self.report.sections if s.name == name), None)

    def _table(self, name: str) -> dict[str, Any] | None:
        section = self._section(name)
        if section is None:
            return None
        numeric = [any(isinstance(getattr(row, key), int | float) for row in section.rows)
                   for key in columns_of(section)]
        return {"title": self._(words.SECTION_TITLES[name]), "headers": self.headers(section),
                "rows": self.cells(section), "numeric": numeric, "empty": self._(words.NOTHING),
                "wide": len(numeric) > 9}

    def _block(self, name: str) -> dict[str, Any]:
        """One part of the page: its title, chart, tables and note."""
        # The month-by-month table of cases is long: after the breakdowns, so the page opens on what a meeting reads.
        tables = {"offices": ["offices"], "breaches": ["breaches"], "cases": ["exploitation", "age_groups", "cases"],
                  "access": ["access"]}[name]
        chart = {"offices": self._offices_chart, "breaches": self._breaches_chart,
                 "cases": self._cases_chart}.get(name)
        section = self._section(name)
        return {"name": name, "title": self._(words.SECTION_TITLES[name]),
                "chart": chart() if chart and section and section.rows else None,
                "tables": [table for table in map(self._table, tables) if table is not None],
                "note": self._(words.SECTION_NOTES[name]) if name in words.SECTION_NOTES else None,
                "empty": self._(words.NO_ACCESS if name == "access" else words.NOTHING)}

    def _offices_chart(self) -> Markup:
        rows = rows_of(self._section("offices"))  # type: ignore[arg-type]  # drawn only when present
        return _charts.offices_chart(rows, self._(words.CHART_OFFICES), {
            "ack": self._(words.CHART_ACK), "answer": self._(words.CHART_ANSWER),
            "committed": self._(words.CHART_COMMITTED), "hours": self._(words.CHART_HOURS)}, self.number)

    def _breaches_chart(self) -> Markup:
        by_month = rows_of(self._section("breaches_by_month"))  # type: ignore[arg-type]  # with `breaches`
        rules: dict[str, str] = {}
        for row in rows_of(self._section("breaches")):  # type: ignore[arg-type]  # drawn only when present
            cited = f"{row['clock']} — {row['source']}" if row["source"] else row["clock"]
            rules[row["clock"]] = f"{rules[row['clock']]}; {row['source']}" if row["clock"] in rules else cited
        keys = sorted({row["month"] for row in by_month})
        names = get_month_names("abbreviated", locale=self.language)
        months = [(key, f"{names[int(key[5:])]} {key[:4]}") for key in _month_range(keys)]
        return _charts.breaches_chart(by_month, months, self._(words.CHART_BREACHES), sorted(rules.items()))

    def _cases_chart(self) -> Markup:
        rows = rows_of(self._section("cases"))  # type: ignore[arg-type]  # drawn only when present
        last = max(row["period"] for row in rows)
        regencies: dict[str, dict[str, int]] = {}
        for row in rows:
            counts = regencies.setdefault(row["regency"] or self._(words.UNKNOWN_REGENCY), {})
            if row["period"] == last and row["open"]:
                counts[row["stage"]] = counts.get(row["stage"], 0) + row["open"]
            if row["closed"]:
                counts["closed"] = counts.get("closed", 0) + row["closed"]
        stages = [(stage, self.word(stage)) for stage in STAGE_ORDER] + [("closed", self._(words.CHART_CLOSED))]
        return _charts.cases_chart(sorted(regencies.items()), stages, self._(words.CHART_CASES), self.number)


def _month_range(keys: list[str]) -> list[str]:
    """Every month from the first key to the last (`2026-11`), so a month without a breach shows as empty."""
    if not keys:
        return []
    year, month = int(keys[0][:4]), int(keys[0][5:])
    out = []
    while f"{year:04d}-{month:02d}" <= keys[-1]:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _environment(translations: Translations) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",)),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]  # by jinja2.ext.i18n
    return env
