"""`sinergi case ...`: open and steer cases.

`sinergi case --help` imports this module: what a command needs (the Temporal client, the domain's models,
YAML, the logs) it imports itself, when it runs (tests/unit/test_cli_imports.py holds that line).
"""

from __future__ import annotations

import getpass
import json
import uuid
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sinergi.commands.console import BAD_INPUT, UserError, field_problems, print_json, validation_lines
from sinergi.commands.kit import POLICY_OPTION, App, common, run
from sinergi.commands.language import Group, _, ngettext
from sinergi.commands.params import CASE_ID, complete_event_type, normalise_case_id

if TYPE_CHECKING:
    from sinergi.cases import Cases
    from sinergi.domain.intake import Intake
    from sinergi.platform.config import Settings


def cases_for(settings: Settings) -> AbstractAsyncContextManager[Cases]:
    """`sinergi.commands.session.cases_for`, imported when a command first talks to Temporal."""
    from sinergi.commands.session import cases_for as connected

    return connected(settings)


def remember_person(name: str) -> None:
    """`sinergi.platform.logs.remember_person`: the name is redacted from anything this process logs."""
    from sinergi.platform.logs import remember_person as remember

    remember(name)


@click.group(cls=Group)
def case() -> None:
    """Open, inspect and steer cases.

    \b
    Examples:
      sinergi case open examples/intake-pmi-malaysia.json
      sinergi case why KALSEL-2026-7Q2M9XKD
    """


def read_intake(path: Path) -> Intake:
    """Parse an intake file (JSON or YAML) with messages that name the file, the field and the fix."""
    import yaml
    from pydantic import ValidationError

    from sinergi.domain.intake import Intake
    from sinergi.domain.limits import DOCUMENT_MAX_BYTES, STRICT

    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise UserError(_("{path}: cannot read ({error})").format(path=path, error=exc.strerror)) from exc
    except UnicodeDecodeError as exc:
        raise UserError(_("{path}: not UTF-8 text").format(path=path)) from exc
    if len(text.encode()) > DOCUMENT_MAX_BYTES:
        raise UserError(_("{path}: an intake file may be at most {size} KiB").format(
                            path=path, size=DOCUMENT_MAX_BYTES // 1024),
                        hint=_("an intake names the person and the situation; documents stay in the office's "
                               "files"))
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise UserError(_("{path}: not valid {format}: {error}").format(
            path=path, format="JSON" if path.suffix.lower() == ".json" else "YAML", error=exc)) from exc
    if not isinstance(raw, dict):
        raise UserError(_("{path}: expected an object with province, received_at, source, person, consent").format(
            path=path))
    try:
        return Intake.model_validate(raw, context=STRICT)
    except ValidationError as exc:
        raise UserError(_("{path}: invalid intake:").format(path=path) + "\n  " + "\n  ".join(validation_lines(exc)),
                        hint=_("see examples/ for a valid intake file"), code="invalid_intake",
                        details=field_problems(exc)) from exc


@case.command("open")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--id", "case_id", help="Use this case id instead of a generated one (A-Z, 0-9 and '-').")
@click.option("--bulk", is_flag=True, help="FILE is JSON Lines: one intake per line (a mass rescue).")
@POLICY_OPTION
@common
def open_case(app: App, file: Path, case_id: str | None, bulk: bool, policy: str | None = None) -> None:
    """Open a case from an intake FILE (JSON or YAML); prints the case id.

    With --bulk, FILE holds one intake per line: a progress bar, then a summary of the opened cases and
    of the rejected lines with their numbers and reasons. Running the same file again opens nothing twice.

    \b
    Examples:
      sinergi case open examples/intake-pmi-malaysia.json
      sinergi case open intake.yaml --id KALSEL-2026-DEMO0001 --json
      sinergi case open --bulk examples/mass-rescue.jsonl
      sinergi case open examples/intake-pmi-malaysia.json --policy demo
    """
    app.use_policy(policy)
    if bulk:
        if case_id:
            raise UserError(_("--id cannot be used with --bulk: each line gets its own id"))
        _open_bulk(app, file)
        return
    intake = read_intake(file)
    remember_person(intake.person.full_name)
    if case_id is not None:
        try:
            case_id = normalise_case_id(case_id)
        except ValueError as exc:
            raise UserError(f"--id: {exc}") from exc

    async def go():
        async with cases_for(app.settings) as cases:
            return await cases.open(intake, case_id=case_id)

    opened = run(go())
    if app.as_json:
        print_json({"case_id": opened.case_id, "workflow_id": opened.workflow_id})
    else:
        click.echo(opened.case_id)
        click.echo(_("opened; follow it with `sinergi case status {case_id}`").format(case_id=opened.case_id),
                   err=True)


@case.command("status")
@click.argument("case_id", type=CASE_ID)
@common
def status(app: App, case_id: str) -> None:
    """Stage, referrals, clocks and their due times, consent and flags of a case.

    \b
    Example:
      sinergi case status KALSEL-2026-7Q2M9XKD
    """

    async def go():
        async with cases_for(app.settings) as cases:
            return await cases.status(case_id)

    result = _or_recorded(app, case_id, go, lambda kept: _kept_view(kept, "status", "CaseStatus"))
    if app.as_json:
        print_json(result)
    else:
        from sinergi.commands import views

        click.echo(views.status_text(result))


def _or_recorded(app: App, case_id: str, go, from_record):
    """`run(go())`: the case as Temporal has it; once its history is deleted, `from_record(kept)` of the views
    the case record kept as its run ended."""
    from sinergi.cases import CaseNotFound

    try:
        return run(go())
    except UserError as exc:
        if not isinstance(exc.__cause__, CaseNotFound):
            raise
        from sinergi.commands.recorded import recorded_views

        kept = recorded_views(app.settings, case_id)
        if kept is None:
            raise
        if not app.as_json:
            click.echo(_("{case_id}: no longer in Temporal; as the case record kept it when it ended").format(
                case_id=case_id), err=True)
        return from_record(kept)


def _kept_view(kept: dict[str, Any], view: str, model: str):
    """One of the kept views as its class in `sinergi.domain.views`."""
    from sinergi.domain import views as domain_views

    return getattr(domain_views, model).model_validate(kept[view])


def _event_data(data: str | None) -> dict[str, Any]:
    if data is None:
        return {}
    where = "--data"
    if data.startswith("@"):
        where = data[1:]
        try:
            data = Path(where).read_text("utf-8")
        except OSError as exc:
            raise UserError(_("--data {path}: cannot read ({error})").format(path=where, error=exc.strerror)) from exc
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError as exc:
        raise UserError(_("{where}: not valid JSON: {error} at line {line} column {column}").format(
                            where=where, error=exc.msg, line=exc.lineno, column=exc.colno),
                        hint=_("e.g. {example}").format(example='--data \'{"outcome": "presumed_victim"}\'')) from exc
    if not isinstance(parsed, dict):
        raise UserError(_("{where}: expected a JSON object, e.g. {example}").format(
            where=where, example='{"service": "health"}'))
    return parsed


def build_event(case_id: str, type_: str, data: dict[str, Any], source: str, event_id: str | None):
    from pydantic import ValidationError

    from sinergi.commands import event_catalog
    from sinergi.domain.events import EVENT_TYPES, INTERNAL_EVENT_TYPES, parse_event

    if type_ not in EVENT_TYPES or type_ in INTERNAL_EVENT_TYPES:
        public = event_catalog.public_types()
        close = [t for t in public if t.split(".")[0] == type_.split(".")[0]] or public
        raise UserError(_("unknown event type {type!r}").format(type=type_),
                        hint=_("known types: {types}; `sinergi events` says what each takes").format(
                            types=", ".join(close)), code="unknown_event_type", details={"known": close})
    raw = {"event_id": event_id or f"op-{uuid.uuid4().hex}", "case_id": case_id, "type": type_,
           "occurred_at": datetime.now(UTC).isoformat(), "source": source, "data": data}
    try:
        return parse_event(raw)
    except ValidationError as exc:
        # Each refused field says what it takes (its allowed values, or the fields the event has).
        errors = event_catalog.field_errors(type_, exc)
        lines = "\n  ".join(event_catalog.field_error_lines(errors))
        raise UserError(_("invalid {type} event:").format(type=type_) + f"\n  {lines}", BAD_INPUT,
                        hint=_("`sinergi events {type}` shows its fields and an example").format(type=type_),
                        code="invalid_event", details=errors) from exc


@case.command("event")
@click.argument("case_id", type=CASE_ID)
@click.argument("type_", metavar="TYPE", shell_complete=complete_event_type)
@click.option("--data", help="The event's data: JSON, or @FILE holding JSON.")
@click.option("--as", "as_office", metavar="OFFICE", help="Enter it as this office, under its agreement.")
@click.option("--event-id", help="Idempotency key (default: a fresh one). The same id twice is applied once.")
@common
def event(app: App, case_id: str, type_: str, data: str | None, as_office: str | None, event_id: str | None) -> None:
    """Enter an event on a case, as an operator or on behalf of an office.

    \b
    Examples:
      sinergi case event KALSEL-2026-7Q2M9XKD identification.screening_completed \\
          --data '{"outcome": "presumed_victim"}'
      sinergi case event KALSEL-2026-7Q2M9XKD protection.shelter_admitted \\
          --data '{"facility": "RPTC Banjarbaru"}' --as dinsos_kalsel
    """
    source = as_office or f"operator:{getpass.getuser()}"
    # Bad input (unknown type, malformed data) is exit 2 whoever sends it; only then the agreement (exit 1).
    built = build_event(case_id, type_, _event_data(data), source, event_id)
    if as_office is not None:
        from sinergi.agencies import load_registry

        registry = load_registry(app.settings.agencies.file)
        office = registry.offices.get(as_office)
        if office is None:
            raise UserError(_("--as: no office {office!r} in the agency registry").format(office=as_office),
                            hint=_("see `sinergi agencies list`"), code="unknown_office")
        if not office.may_send_type(type_):
            raise UserError(_("{office} may not send {type}: its agreement allows {allowed}").format(
                                office=as_office, type=type_, allowed=", ".join(office.may_send)),
                            exit_code=1, hint=_("enter it without --as (as an operator), or as an office whose "
                                                "agreement allows it: see `sinergi events {type}`").format(type=type_),
                            code="not_allowed")

    from sinergi.cases import NotAParty

    async def go():
        async with cases_for(app.settings) as cases:
            # As the gateway does: with --as, the case refuses an office that does not take part in it.
            try:
                # Through a gateway's codec, it writes the verified name over this one (gateway.stamping).
                return await cases.send(built, sender=office.sender if as_office is not None else None,
                                        entered_by=f"operator:{getpass.getuser()}" if as_office else None)
            except NotAParty:
                raise UserError(_("{office} is not part of case {case_id}: the case sent it no referral or "
                                  "notice and it is not the lead office").format(office=as_office, case_id=case_id),
                                exit_code=1,
                                hint=_("enter it as an operator (without --as), or as an office of the case"),
                                code="not_a_party") from None

    outcome = run(go())
    if app.as_json:
        print_json(outcome)
    else:
        from sinergi.commands.console import stage_word

        said = (_("{case_id}: {type} applied (already applied: nothing changed); stage {stage}") if outcome.duplicate
                else _("{case_id}: {type} applied; stage {stage}"))
        click.echo(said.format(case_id=outcome.case_id, type=type_, stage=stage_word(outcome.stage)))


@case.command("timeline")
@click.argument("case_id", type=CASE_ID)
@common
def timeline(app: App, case_id: str) -> None:
    """Every event, referral, clock, breach and escalation of a case, in time order.

    \b
    Example:
      sinergi case timeline KALSEL-2026-7Q2M9XKD
    """

    _show(app, case_id, "timeline", "timeline_text", "timeline", "CaseTimeline")


@case.command("why")
@click.argument("case_id", type=CASE_ID)
@common
def why(app: App, case_id: str) -> None:
    """What the case waits on, the next deadline and the law behind it, the last error, what is accepted now.

    \b
    Example:
      sinergi case why KALSEL-2026-7Q2M9XKD
    """

    _show(app, case_id, "why", "why_text", "why", "CaseWhy", as_json="why_json")


def _show(app: App, case_id: str, fetch: str, render: str, view: str, model: str, as_json: str | None = None) -> None:
    """One case view: JSON as is, or rendered for people in the case's own time zone. `fetch` names the
    `Cases` method, `render` and `as_json` functions of `sinergi.commands.views`, `model` the view's class in
    `sinergi.domain.views` (imported here: `case --help` needs none of them)."""
    from sinergi.commands import views

    async def go():
        async with cases_for(app.settings) as cases:
            result = await getattr(cases, fetch)(case_id)
            # People read times in the case's zone; its province comes from the server, not a worker query.
            return result, None if app.as_json else (await cases.parties(case_id)).province

    result, province = _or_recorded(app, case_id, go,
                                    lambda kept: (_kept_view(kept, view, model), kept["status"]["province"]))
    if app.as_json:
        print_json(getattr(views, as_json)(result) if as_json else result)
    else:
        click.echo(getattr(views, render)(result, province))


@case.command("close")
@click.argument("case_id", type=CASE_ID)
@click.option("--reason", required=True, help="Why the case is closed (kept in its timeline).")
@common
def close(app: App, case_id: str, reason: str) -> None:
    """Close a case by hand; its legal track (if open) continues.

    \b
    Example:
      sinergi case close KALSEL-2026-7Q2M9XKD --reason "victim moved abroad, declined further assistance"
    """
    built = build_event(case_id, "case.closed", {"reason": reason}, f"operator:{getpass.getuser()}", None)

    async def go():
        async with cases_for(app.settings) as cases:
            return await cases.send(built)

    outcome = run(go())
    if app.as_json:
        print_json(outcome)
    else:
        click.echo(_("{case_id}: closed ({reason})").format(case_id=outcome.case_id, reason=reason))


@case.command("list")
@click.option("--stage", type=click.Choice(["identification", "protection", "rehabilitation", "repatriation",
                                            "reintegration", "closed"]), help="Only cases in this stage.")
@click.option("--province", help="Only cases of this province (e.g. KALSEL).")
@click.option("--agency", help="Only cases involving this office or agency kind.")
@click.option("--escalated", is_flag=True, help="Only cases with an escalation.")
@click.option("--open/--closed", "is_open", default=None, help="Only open, or only closed, cases.")
@click.option("--limit", type=click.IntRange(1, 10000), default=200, show_default=True)
@common
def list_cases(app: App, stage: str | None, province: str | None, agency: str | None, escalated: bool,
               is_open: bool | None, limit: int) -> None:
    """Cases matching the filters, newest first (a visibility query on the case search attributes).

    \b
    Examples:
      sinergi case list --province KALSEL --escalated
      sinergi case list --stage protection --agency uptd_ppa_banjar --json
    """
    from sinergi.commands.listing import list_query

    query = list_query(stage=stage, province=province, agency=agency, escalated=escalated, is_open=is_open)

    async def go():
        async with cases_for(app.settings) as cases:
            return await cases.list(query, limit)

    rows = run(go())
    if is_open is False and stage in (None, "closed") and agency is None and not escalated:
        # Closed cases whose history the namespace's retention deleted are in the case record only.
        from sinergi.cases import CaseSummary
        from sinergi.commands.recorded import recorded_closed_cases

        listed = {r.case_id for r in rows}
        rows += [CaseSummary.model_validate(r) for r in recorded_closed_cases(app.settings, province, limit)
                 if r["case_id"] not in listed][:max(0, limit - len(rows))]
    if app.as_json:
        print_json(rows)
    else:
        from sinergi.commands import views

        click.echo(views.list_text(rows) if rows else _("no cases match"))


def _open_bulk(app: App, file: Path) -> None:
    from sinergi.bulk import open_all, parse_lines
    from sinergi.platform.codec import load_keys

    try:
        text = file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(_("{path}: cannot read as UTF-8 text ({error})").format(path=file, error=exc)) from exc
    items, rejected = parse_lines(text)
    for _line, _key, intake in items:
        remember_person(intake.person.full_name)
    # Each line's case id is keyed with the codec key: derived here with the keys file, or by the gateway on a
    # laptop that codes through it (`[codec] endpoint`), so the same file opens nothing twice from anywhere.
    remote = bool(app.settings.codec.endpoint)
    key = None if remote else load_keys(app.settings.codec.keys_file)[app.settings.codec.key_id]

    async def go():
        async with cases_for(app.settings) as cases:
            suffixes = None
            if remote and items:
                suffixes = await cases.client.data_converter.payload_codec.case_id_suffixes(
                    [line for _number, line, _intake in items])
            with click.progressbar(length=len(items), label=_("opening cases"), file=click.get_text_stream("stderr"),
                                   show_pos=True) as bar:
                return await open_all(cases, items, key, progress=bar.update, suffixes=suffixes)

    result = run(go())
    result.rejected = sorted(rejected + result.rejected, key=lambda r: r["line"])
    summary = {"opened": result.opened, "existing": result.existing, "rejected": result.rejected}
    nothing = bool(result.rejected) and not result.opened and not result.existing
    if app.as_json:
        if nothing:  # one JSON document on stdout: the summary's keys, and the error's
            raise UserError(_("no line could be opened"), BAD_INPUT, code="bulk_rejected", result=summary)
        print_json(summary)
    else:
        click.echo(", ".join([
            ngettext("opened {n} case", "opened {n} cases", len(result.opened)).format(n=len(result.opened)),
            ngettext("{n} already open", "{n} already open", len(result.existing)).format(n=len(result.existing)),
            ngettext("{n} line rejected", "{n} lines rejected", len(result.rejected)).format(
                n=len(result.rejected))]))
        for case_id in result.opened:
            click.echo(_("  opened   {case_id}").format(case_id=case_id))
        for row in result.rejected:
            click.echo(_("  line {line}: {error}").format(line=row["line"], error=row["error"]))
    if nothing:
        raise UserError(_("no line could be opened"), BAD_INPUT, code="bulk_rejected")


from sinergi.commands.intake_wizard import new as new_case  # noqa: E402 - `case new`: the guided intake, apart

case.add_command(new_case)
