"""`sinergi admin operator ...`: named operators (SPEC "Operators and engineers in production", issue 24).

Run where the case record's database is reachable (the deployment's admin shell, `sinergi dev`'s folder). The
token is printed once and only its hash is kept (`sinergi.records.Operators`); the operator puts it in
`SINERGI_TOKEN` or the user config's profile (`token = ...`), and the gateway verifies it on every request.
"""

from __future__ import annotations

import getpass

import click

from sinergi.commands.console import BAD_INPUT, REFUSED, UNREACHABLE, UserError, print_json, table
from sinergi.commands.kit import App, common
from sinergi.commands.language import _

ROLE_CHOICE = click.Choice(["caseworker", "supervisor", "engineer"])


@click.group("operator")
def operator() -> None:
    """Named operators: who may enter events and decode cases, in which role.

    \b
    Roles:
      caseworker  enters events and reads cases, personal data included
      supervisor  as a caseworker (decisions the lead office's supervisor takes)
      engineer    reads the structure of cases, personal fields masked; enters nothing

    \b
    Examples:
      sinergi admin operator add siti.rahma --role caseworker
      sinergi admin operator list
      sinergi admin operator revoke siti.rahma
    """


def _operators(app: App):
    from sinergi.records import CaseRecord, Operators, RecordError, records_url

    try:
        # No keys: operators' rows hold nothing sealed. Migrated here too, so the first operator can be added
        # before the first worker starts.
        return Operators(CaseRecord.open(records_url(app.settings), None, migrate_schema=True))
    except RecordError as exc:
        raise UserError(_("cannot open the case record: {error}").format(error=exc), UNREACHABLE,
                        code="record_unavailable",
                        hint=_("check [records] url (SINERGI_RECORDS_URL) and that the database is up")) from None


def _refused(exc: Exception) -> UserError:
    from sinergi.records import OperatorError

    if isinstance(exc, OperatorError):
        return UserError(_operator_problem(exc), BAD_INPUT if exc.kind in ("bad_name", "bad_role") else REFUSED,
                         code="bad_operator_name" if exc.kind == "bad_name" else "operator_refused")
    return UserError(_("the case record is unavailable: {error}").format(error=exc), UNREACHABLE,
                     code="record_unavailable")


def _operator_problem(exc) -> str:
    """An `OperatorError` in the reader's language, by its kind."""
    words = {
        "bad_name": _("operator name {name!r}: expected 2-63 of a-z, 0-9, '.', '-', '_' (starting with a letter or "
                      "digit), e.g. siti.rahma"),
        "bad_role": _("role for {name}: expected caseworker, supervisor or engineer"),
        "exists": _("operator {name} exists; give a new token with `sinergi admin operator rotate {name}`"),
        "name_used": _("operator {name} was revoked, and a name is never given again (past events keep pointing at "
                       "one person): choose another name"),
        "unknown": _("no operator {name}; see `sinergi admin operator list`"),
        "revoked": _("operator {name} is revoked"),
    }
    return words[exc.kind].format(name=exc.name) if exc.kind in words else str(exc)


def _who_runs() -> str:
    return f"admin:{getpass.getuser()}"


@operator.command("add")
@click.argument("name")
@click.option("--role", type=ROLE_CHOICE, required=True, help="What the operator may do and see.")
@common
def add(app: App, name: str, role: str) -> None:
    """Add an operator and print their token, once (only its hash is kept).

    NAME is recorded on every event they enter (`operator:NAME`) and is never given to anyone else.

    \b
    Example:
      sinergi admin operator add siti.rahma --role caseworker
    """
    from sinergi.records import OperatorError, RecordError
    from sinergi.records._operators import check_name

    try:
        check_name(name)
    except OperatorError as exc:
        raise _refused(exc) from None
    try:
        issued = _operators(app).add(name, role, created_by=_who_runs())  # type: ignore[arg-type] - a ROLE_CHOICE
    except RecordError as exc:
        raise _refused(exc) from None
    _print_issued(app, issued, "added")


@operator.command("rotate")
@click.argument("name")
@common
def rotate(app: App, name: str) -> None:
    """Give an operator a new token; the old one stops working within 10 seconds.

    \b
    Example:
      sinergi admin operator rotate siti.rahma
    """
    from sinergi.records import RecordError

    try:
        issued = _operators(app).rotate(name)
    except RecordError as exc:
        raise _refused(exc) from None
    _print_issued(app, issued, "rotated")


@operator.command("revoke")
@click.argument("name")
@common
def revoke(app: App, name: str) -> None:
    """Revoke an operator: their token stops working within 10 seconds; the name stays, never given again.

    \b
    Example:
      sinergi admin operator revoke siti.rahma
    """
    from sinergi.records import RecordError

    try:
        done = _operators(app).revoke(name, revoked_by=_who_runs())
    except RecordError as exc:
        raise _refused(exc) from None
    if app.as_json:
        print_json(done.model_dump(mode="json"))
    else:
        click.echo(_("operator {name} revoked; events they entered keep their name").format(name=done.name))


@operator.command("list")
@click.option("--active", is_flag=True, help="Only operators not revoked.")
@common
def list_(app: App, active: bool) -> None:
    """List operators: name, role, when added, whether revoked. Never a token.

    \b
    Example:
      sinergi admin operator list --active
    """
    from sinergi.records import RecordError

    try:
        found = _operators(app).list(include_revoked=not active)
    except RecordError as exc:
        raise _refused(exc) from None
    if app.as_json:
        print_json([o.model_dump(mode="json") for o in found])
        return
    click.echo(table([_("name"), _("role"), _("added"), _("by"), _("revoked")],
                     [[o.name, o.role, f"{o.created_at:%Y-%m-%d %H:%M}", o.created_by,
                       f"{o.revoked_at:%Y-%m-%d %H:%M}" if o.revoked_at else "-"] for o in found]))


def _print_issued(app: App, issued, done: str) -> None:
    if app.as_json:
        print_json({**issued.operator.model_dump(mode="json"), "token": issued.token})
        return
    operator = issued.operator
    said = (_("operator {name} added ({role}). Their token, shown this once:") if done == "added"
            else _("operator {name}: new token ({role}). Their token, shown this once:"))
    click.echo(said.format(name=operator.name, role=operator.role), err=True)
    click.echo(issued.token)
    click.echo(_("Give it to them in person; they set it as SINERGI_TOKEN or `token` in their profile "
                 "(~/.config/sinergi/config.toml)."), err=True)
