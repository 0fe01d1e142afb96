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
        raise UserError(f"cannot open the case record: {exc}", UNREACHABLE, code="record_unavailable",
                        hint="check [records] url (SINERGI_RECORDS_URL) and that the database is up") from None


def _refused(exc: Exception) -> UserError:
    from sinergi.records import OperatorError

    if isinstance(exc, OperatorError):
        return UserError(str(exc), REFUSED, code="operator_refused")
    return UserError(f"the case record is unavailable: {exc}", UNREACHABLE, code="record_unavailable")


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
        raise UserError(str(exc), BAD_INPUT, code="bad_operator_name") from None
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
        click.echo(f"operator {done.name} revoked; events they entered keep their name")


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
    click.echo(table(["name", "role", "added", "by", "revoked"],
                     [[o.name, o.role, f"{o.created_at:%Y-%m-%d %H:%M}", o.created_by,
                       f"{o.revoked_at:%Y-%m-%d %H:%M}" if o.revoked_at else "-"] for o in found]))


def _print_issued(app: App, issued, done: str) -> None:
    if app.as_json:
        print_json({**issued.operator.model_dump(mode="json"), "token": issued.token})
        return
    click.echo(f"operator {issued.operator.name} {done} ({issued.operator.role}). Their token, shown this once:",
               err=True)
    click.echo(issued.token)
    click.echo("Give it to them in person; they set it as SINERGI_TOKEN or `token` in their profile "
               "(~/.config/sinergi/config.toml).", err=True)
