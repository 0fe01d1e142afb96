"""`sinergi report offices|breaches|cases|access` and `sinergi export ctdc` (SPEC "The case record and reports").

Read-only over the case record: it is opened without the codec keys, so a report cannot open the sealed personal
data even by mistake, and a missing SQLite record is reported, never created. Imports stay inside the commands:
`sinergi --help` must not load SQLAlchemy, Babel or openpyxl.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sinergi.commands.console import BAD_INPUT, UNREACHABLE, UserError, print_json
from sinergi.commands.kit import App, common
from sinergi.commands.language import Group, _
from sinergi.commands.params import CASE_ID

if TYPE_CHECKING:
    from sinergi.records import CaseRecord

FORMATS = ("table", "json", "csv", "xlsx", "html")
PROVINCE = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")
DAY = click.DateTime(formats=["%Y-%m-%d"])


def _format_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed([
        click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
                     help="table, json and csv on stdout (or --output); xlsx needs --output."),
        click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."),
    ]):
        command = option(command)
    return command


def _period_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = _format_options(command)
    for option in reversed([
        click.option("--from", "since", type=DAY, metavar="DATE", help="First day counted (YYYY-MM-DD)."),
        click.option("--to", "until", type=DAY, metavar="DATE", help="Last day counted (YYYY-MM-DD), included."),
        click.option("--province", metavar="P", help="Only cases of this province (e.g. KALSEL)."),
    ]):
        command = option(command)
    return command


@click.group(cls=Group)
def report() -> None:
    """Reports of the case record for the task force's coordination meeting, and the victim's access report.

    Dates are days in the province's zone (WIB when no --province is given); --to is included. Tables, xlsx and
    html are in the language of --lang (the CLI's: $SINERGI_LANG, [ui] language, the locale).

    \b
    Examples:
      sinergi report offices --from 2026-11-01 --to 2026-11-30 --province KALSEL
      sinergi report offices --format html --output rapat.html
      sinergi report breaches --format xlsx --output pelanggaran.xlsx
      sinergi report cases --json
      sinergi report access KALSEL-2026-7Q2M9XKD --format html --output akses.html
    """


@report.command("offices")
@_period_options
@common(output=False)
def offices(app: App, **options: Any) -> None:
    """How each office answers its referrals: acknowledged, accepted, declined, how fast, how often late.

    \b
    Examples:
      sinergi report offices --from 2026-11-01 --to 2026-11-30 --province KALSEL
      sinergi report offices --format html --output rapat.html
    """
    _period_report(app, "offices", **options)


@report.command("breaches")
@_period_options
@common(output=False)
def breaches(app: App, **options: Any) -> None:
    """Deadlines missed, by rule and the law behind it, with the offices responsible and the escalation reached.

    \b
    Examples:
      sinergi report breaches --from 2026-01-01 --to 2026-12-31 --json
      sinergi report breaches --format xlsx --output pelanggaran.xlsx
    """
    _period_report(app, "breaches", **options)


@report.command("cases")
@_period_options
@common(output=False)
def cases(app: App, **options: Any) -> None:
    """Cases by month, stage and regency; by form of exploitation; children and adults.

    \b
    Examples:
      sinergi report cases --province KALSEL --from 2026-07-01
      sinergi report cases --format csv --output kasus.csv
    """
    _period_report(app, "cases", **options)


@report.command("access")
@click.argument("case_id", type=CASE_ID)
@_format_options
@common(output=False)
def access(app: App, case_id: str, fmt: str, output: Path | None) -> None:
    """Which office received or saw which fields of the victim, when and how (field names, never values).

    \b
    Examples:
      sinergi report access KALSEL-2026-7Q2M9XKD
      sinergi report access KALSEL-2026-7Q2M9XKD --format html --lang id --output akses.html
    """
    from sinergi.domain.durations import province_zone
    from sinergi.reports import Scope, case_known, collect_access

    record = _open_record(app)
    try:
        with _record_errors():
            if not case_known(record.engine, case_id):
                raise UserError(_("no case {case_id} in the case record").format(case_id=case_id), BAD_INPUT,
                                hint=_("check the case id with `sinergi case list`"))
            found = collect_access(record.engine, case_id, Scope(zone=province_zone(case_id.split("-")[0])))
    finally:
        record.close()
    _emit(app, found, fmt, output)


def _period_report(app: App, kind: str, *, since: datetime | None, until: datetime | None, province: str | None,
                   fmt: str, output: Path | None) -> None:
    from sinergi.domain.durations import province_zone
    from sinergi.reports import Scope, collect

    if province is not None:
        province = province.upper()
        if not PROVINCE.match(province):
            raise UserError(_("--province: {province!r} is not a province code").format(province=province), BAD_INPUT,
                            hint=_("e.g. {example}").format(example="KALSEL"))
    zone = province_zone(province or "DKI")
    if since and until and since > until:
        raise UserError(_("--from {since} is after --to {until}").format(since=f"{since:%Y-%m-%d}",
                                                                         until=f"{until:%Y-%m-%d}"), BAD_INPUT)
    scope = Scope(since=_start_of(since.date(), zone) if since else None,
                  until=_start_of(until.date() + timedelta(days=1), zone) if until else None,
                  province=province, zone=zone)
    committed = _committed_times(app)
    record = _open_record(app)
    try:
        with _record_errors():
            found = collect(record.engine, kind, scope, committed=committed,  # type: ignore[arg-type]  # a Kind
                            meeting=(fmt == "html" and not app.as_json))
    finally:
        record.close()
    _emit(app, found, fmt, output)


def _start_of(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def _emit(app: App, found: Any, fmt: str, output: Path | None) -> None:
    """Render and write the report, in the CLI's language: to `output`, else stdout (never xlsx's bytes on a
    terminal)."""
    from sinergi.platform.i18n import CatalogsMissing
    from sinergi.reports.render import render

    fmt = "json" if app.as_json else fmt
    if fmt == "xlsx" and output is None:
        raise UserError(_("xlsx is a binary file: give --output FILE.xlsx"), BAD_INPUT)
    try:
        content = render(found, fmt, app.language)  # type: ignore[arg-type]  # a Format, a Language
    except CatalogsMissing as exc:
        raise UserError(str(exc), BAD_INPUT) from exc
    if output is None:
        click.echo(content, nl=False)
        return
    _write(output, content)
    if not app.as_json:
        click.echo(_("wrote {path} ({format})").format(path=output, format=fmt))


def _write(output: Path, content: str | bytes) -> None:
    try:
        if isinstance(content, bytes):
            output.write_bytes(content)
        else:
            output.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise UserError(_("cannot write {path}: {error}").format(path=output, error=exc.strerror), BAD_INPUT) from exc


def _committed_times(app: App) -> dict[str, timedelta]:
    """Each office's committed response time from the agreement; none (with a warning) if it cannot be read."""
    from sinergi.agencies import RegistryError, load_registry

    try:
        registry = load_registry(app.settings.agencies.file)
    except RegistryError as exc:
        click.echo(_("warning: agencies file not read ({error}); reports without committed response times").format(
            error=exc), err=True)
        return {}
    return {office.id: timedelta(seconds=office.response_seconds) for office in registry.offices.values()}


def _open_record(app: App) -> CaseRecord:
    from sqlalchemy.engine import make_url

    from sinergi.records import CaseRecord, records_url

    url = records_url(app.settings)
    parsed = make_url(url) if "://" in url else None
    if parsed is not None and parsed.get_backend_name() == "sqlite" and parsed.database \
            and not Path(parsed.database).is_file():
        raise UserError(_("no case record at {path}").format(path=parsed.database), BAD_INPUT,
                        hint=_("the worker writes it (`sinergi dev`); or set [records] url in sinergi.toml"))
    with _record_errors():
        # No codec keys: what reports read holds no personal data, and with none they could not open any.
        record = CaseRecord.open(url)
    return record


@contextmanager
def _record_errors() -> Iterator[None]:
    """The case record's errors as user errors: unreachable (3), else bad configuration or state (2)."""
    from sinergi.records import RecordError, RecordUnavailable, SchemaOutOfDate

    try:
        yield
    except RecordUnavailable as exc:
        raise UserError(str(exc), UNREACHABLE, hint=_("is the database running? check [records] url")) from exc
    except SchemaOutOfDate as exc:
        raise UserError(str(exc), BAD_INPUT, hint=_("the worker migrates the record when it starts")) from exc
    except RecordError as exc:
        raise UserError(str(exc), BAD_INPUT) from exc


@click.group(cls=Group)
def export() -> None:
    """De-identified exports of the case record for national and international partners.

    \b
    Example:
      sinergi export ctdc --output ctdc.csv
    """


@export.command("ctdc")
@click.option("--k", "k", type=click.IntRange(min=2), default=11, show_default=True,
              help="Every combination of quasi-identifiers is shared by at least k rows.")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The CSV file.")
@common(output=False)
def ctdc(app: App, k: int, output: Path) -> None:
    """One de-identified row per case, HTCDS-aligned, k-anonymous, for CTDC (IOM); docs/reports.md.

    Prints how many cells were generalised and how many rows suppressed.

    \b
    Examples:
      sinergi export ctdc --output ctdc.csv
      sinergi export ctdc --k 20 --output ctdc.csv --json
    """
    from sinergi.reports import ctdc as export_ctdc

    record = _open_record(app)
    try:
        with _record_errors():
            found = export_ctdc(record.engine, k)
    finally:
        record.close()
    _write(output, found.csv())
    summary = {"output": str(output), "k": k, "rows": len(found.rows), "generalised_cells": found.generalised_cells,
               "suppressed_rows": found.suppressed_rows, "quasi_identifiers": found.quasi_identifiers,
               "generalised_to": found.rungs, "unmapped": found.unmapped}
    if app.as_json:
        print_json(summary)
        return
    click.echo(_("wrote {path}: {rows} rows, every quasi-identifier combination shared by at least {k}").format(
        path=output, rows=len(found.rows), k=k))
    click.echo(_("generalised: {cells} cells ({columns})").format(
        cells=found.generalised_cells,
        columns=", ".join(_("{column} to {rung}").format(column=column, rung=rung)
                          for column, rung in found.rungs.items())))
    click.echo(_("suppressed: {rows} rows").format(rows=found.suppressed_rows))
    if found.unmapped:
        click.echo(_("exported as other (no HTCDS value): {values}").format(
            values=", ".join(f"{value} ({n})" for value, n in sorted(found.unmapped.items()))), file=sys.stderr)
