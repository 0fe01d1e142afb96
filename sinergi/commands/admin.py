"""`sinergi admin ...`: what an operator runs on every deploy — register the search attributes, and
replay histories against the new code before it takes over (README "Running in production")."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from sinergi.commands.console import BAD_INPUT, REFUSED, UNREACHABLE, UserError, print_json
from sinergi.commands.kit import App, common
from sinergi.commands.language import _
from sinergi.commands.params import CASE_ID
from sinergi.commands.temporal_calls import run_admin as _run


@click.group()
def admin() -> None:
    """Operate a deployment: set up a namespace, check an upgrade by replay.

    \b
    Examples:
      sinergi admin setup
      sinergi admin replay --from-namespace
    """


@admin.command()
@common
def setup(app: App) -> None:
    """Register the case search attributes in the namespace; safe to run on every deploy.

    Adds only what is missing and says what it added.

    \b
    Examples:
      sinergi admin setup
      SINERGI_TEMPORAL_ADDRESS=temporal:7233 SINERGI_TEMPORAL_NAMESPACE=kalsel sinergi admin setup --json
    """
    from sinergi.commands.admin_ops import register_search_attributes

    settings = app.settings
    added, present = _run(register_search_attributes(settings), settings.temporal.address)
    namespace = settings.temporal.namespace
    if app.as_json:
        print_json({"namespace": namespace, "added": added, "present": present})
    elif added:
        click.echo(_("namespace {namespace}: registered {names}").format(namespace=namespace, names=", ".join(added)))
    else:
        click.echo(_("namespace {namespace}: all {count} search attributes already registered; nothing to do").format(
            namespace=namespace, count=len(present)))


@admin.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from-namespace", is_flag=True,
              help="Replay the newest executions of the configured namespace (running and closed).")
@click.option("--query", default=None, metavar="Q",
              help="Visibility query choosing the executions (default: every CaseWorkflow).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="At most this many executions from the namespace.")
@click.option("--keys", "keys_files", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              metavar="FILE", help="Also decode with the keys in FILE (a keys file: key id -> base64); repeatable.")
@click.option("--test-key", is_flag=True,
              help="Also decode with the public test-only key tests/replay/histories were recorded with.")
@common
def replay(app: App, files: tuple[Path, ...], from_namespace: bool, query: str | None, limit: int,
           keys_files: tuple[Path, ...], test_key: bool) -> None:
    """Replay histories against this code; exit 1 if any is not deterministic (or cannot be replayed).

    FILES are saved histories (tests/replay/histories/*.json, or `temporal workflow show --output json`).
    Payloads are decoded with the configured codec keys, so every key a history used must be in the keys file,
    or in a file given with --keys. The shipped histories were encrypted with the public test-only key
    (key id `test-only`): replay them with --test-key.

    \b
    Examples:
      sinergi admin replay --test-key tests/replay/histories/*.json
      sinergi admin replay --from-namespace --limit 500
      sinergi admin replay --from-namespace --keys retired-keys.json
      sinergi admin replay --from-namespace --query "ExecutionStatus = 'Running'"
    """
    from sinergi.commands.admin_ops import read_histories, replay_converter, replay_histories, undecodable

    if not files and not from_namespace:
        raise UserError(_("nothing to replay"), BAD_INPUT, hint=_("give history FILES, or --from-namespace"))
    if (query is not None) and not from_namespace:
        raise UserError(_("--query needs --from-namespace"), BAD_INPUT)
    histories = read_histories(files)  # bad files are refused before anything connects
    # The SDK logs a traceback for every history that fails; the report below says it in one line.
    logging.getLogger("temporalio.worker._workflow").setLevel(logging.CRITICAL)
    settings = app.settings
    converter = replay_converter(settings, keys_files, test_key)
    report = _run(replay_histories(settings, histories, from_namespace, query, limit, converter=converter),
                  settings.temporal.address)
    missing = undecodable(report)
    summary = {"replayed": report.replayed, "failures": report.failures, "ok": report.ok,
               "missing_keys": sorted(set(missing.values()))}
    if app.as_json and report.ok:
        print_json(summary)
    elif not app.as_json:
        _print_report(report)
    if not report.ok:
        # Under --json, one document: the report's keys and the error's.
        failed = len(report.failures)
        raise UserError(_("{failed} of {count} histories do not replay on this code").format(
                            failed=failed, count=len(report.replayed)), REFUSED,
                        hint=_replay_hint(report, missing), code="replay_failed",
                        details={"missing_keys": summary["missing_keys"]}, result=summary)


def _replay_hint(report, missing: dict[str, str]) -> str:
    """What to do about the failures: a key is missing or wrong (the code was not checked), or the code changed
    (patch it)."""
    from sinergi.testing.cases import TEST_KEY_ID

    undecoded = len(missing)
    keys = ", ".join(repr(key_id) for key_id in sorted(set(missing.values())))
    if undecoded == len(report.failures):
        if set(missing.values()) == {TEST_KEY_ID} and not any("cannot decrypt" in f for f in report.failures.values()):
            return _("these histories were encrypted with the public test-only key: replay them with --test-key "
                     "(the code was not checked yet)")
        return _("the loaded keys cannot decode these histories (key ids {keys}): give the keys they were encrypted "
                 "with in --keys FILE, or --test-key for tests/replay/histories (the code was not checked yet)"
                 ).format(keys=keys)
    if undecoded:
        return _("{count} could not be decoded (key ids {keys}: --keys FILE, or --test-key for "
                 "tests/replay/histories); for the others, guard the change with workflow.patched(...) so running "
                 "cases keep their path (README \"Safe upgrades\")").format(count=undecoded, keys=keys)
    return _("guard the change with workflow.patched(...) so running cases keep their path "
             "(README \"Safe upgrades\")")


def _print_report(report) -> None:
    for workflow_id, failure in report.failures.items():
        verdict = _("NOT DETERMINISTIC") if "Nondeterminism" in failure else _("CANNOT REPLAY")
        click.echo(f"{click.style(verdict, fg='red', bold=True)}  {workflow_id}\n    {failure}")
    ok = len(report.replayed) - len(report.failures)
    click.echo(_("replayed {count} histories: {ok} ok, {failed} failed").format(
        count=len(report.replayed), ok=ok, failed=len(report.failures)))
    if not report.replayed:
        click.echo(_("note: no execution matched: nothing was checked"), err=True)


@admin.group()
def passcode() -> None:
    """The passcodes of the e-mail offices' referral pages (SPEC "Offices without systems of their own").

    \b
    Example:
      sinergi admin passcode rotate dinsos_banjar
    """


@passcode.command("rotate")
@click.argument("office_id", metavar="OFFICE")
@common
def rotate(app: App, office_id: str) -> None:
    """Give OFFICE a new referral-page passcode; the old one stops working. Prints it once.

    Agree the new passcode with the office as the MoU says (in person, by phone, in a sealed letter), never
    by the e-mail address its referrals go to. Under `sinergi dev` (no passcode variable set) it is stored in
    the dev secrets file and works at once; in production put it in the office's passcode variable
    (`settings.passcode_env`, e.g. a compose secret) and restart the gateway.

    \b
    Example:
      sinergi admin passcode rotate dinsos_banjar
    """
    from sinergi.bootstrap import office_registry
    from sinergi.platform.secrets import DEV_SECRETS, new_passcode, passcode_env, rotate_dev_passcode

    office = office_registry(app.settings).offices.get(office_id)
    if office is None:
        raise UserError(_("no office {office!r} in the agency registry").format(office=office_id), BAD_INPUT,
                        hint=_("see `sinergi agencies list`"))
    if office.adapter != "email":
        raise UserError(_("{office} answers through its own system ({adapter}), not the referral page").format(
                        office=office_id, adapter=office.adapter), REFUSED)
    variable = passcode_env(office)
    if os.environ.get(variable):
        code = new_passcode()
        where = _("set {variable} to it where the gateway runs, then restart the gateway").format(variable=variable)
    else:
        code = rotate_dev_passcode(app.settings.dev.state_dir / DEV_SECRETS, office)
        where = _("stored in {file} (sinergi dev): in force now").format(file=app.settings.dev.state_dir / DEV_SECRETS)
    if app.as_json:
        print_json({"office": office_id, "passcode": code, "variable": variable})
    else:
        click.echo(code)
        click.echo(_("new passcode for {office}: {where}").format(office=office_id, where=where), err=True)


@admin.group()
def records() -> None:
    """The case record (`[records] url`): what outlives Temporal's history of a case.

    \b
    Example:
      sinergi admin records backfill
    """


@records.command()
@common
def backfill(app: App) -> None:
    """Write every case the namespace holds into the case record (each fact once; safe to run again).

    Asks each case what its state holds, so a worker must be running; reads each run's history for the
    events it applied.

    \b
    Example:
      sinergi admin records backfill
    """
    from sinergi.commands.records_admin import backfill as run_backfill

    done = _run(run_backfill(app.settings), app.settings.temporal.address)
    if app.as_json:
        print_json({"cases": done.cases, "runs": done.runs, "facts": done.facts, "written": done.written,
                    "failed": done.failed})
    else:
        click.echo(_("back-filled {cases} case(s) ({runs} run(s)): {facts} facts read, {written} new in the record"
                     ).format(cases=done.cases, runs=done.runs, facts=done.facts, written=done.written))
        for workflow_id, why in done.failed.items():
            click.echo(_("  failed  {workflow}: {why}").format(workflow=workflow_id, why=why), err=True)
    if done.failed:
        raise SystemExit(UNREACHABLE)


@admin.command()
@click.argument("case_id", type=CASE_ID)
@click.option("--requested-by", required=True, metavar="WHO",
              help="Who asked (the data subject, or their representative), as the erasure's record says.")
@click.option("--basis", default=None, metavar="TEXT", help="The legal basis (default: UU 27/2022 Art. 8).")
@click.option("--yes", is_flag=True, help="Erase without asking again.")
@common
def erase(app: App, case_id: str, requested_by: str, basis: str | None, yes: bool) -> None:
    """Erase a closed case's personal data, at its data subject's request (UU 27/2022 PDP Art. 8).

    The case's data key and every sealed item go from the case record (a tombstone stays: a later write
    cannot bring them back); the report facts, which hold no personal data, remain; the case's Temporal
    history is deleted too. An open case is refused: its data is still needed to assist the victim.

    \b
    Example:
      sinergi admin erase KALSEL-2026-7Q2M9XKD --requested-by "the victim, in person, 6 Dec 2026"
    """
    from sinergi.commands.records_admin import CaseStillOpen
    from sinergi.commands.records_admin import erase as run_erase
    from sinergi.records import ERASURE_BASIS

    if not yes and not click.confirm(_("Erase the personal data of {case} for good?").format(case=case_id), err=True):
        raise UserError(_("not erased"), REFUSED)
    try:
        erased = _run(run_erase(app.settings, case_id, requested_by=requested_by, basis=basis or ERASURE_BASIS),
                      app.settings.temporal.address)
    except CaseStillOpen:
        raise UserError(_("{case} is open: its personal data is still needed to assist the victim").format(
                        case=case_id), REFUSED,
                        hint=_("close the case first (`sinergi case close`); the law allows keeping data while "
                               "it is needed (UU 27/2022 Art. 15)")) from None
    if app.as_json:
        print_json({"case_id": erased.case_id, "personal_items_deleted": erased.personal_items_deleted,
                    "already": erased.already, "history_deleted": erased.history_deleted})
    else:
        said = _("{case}: personal data erased ({count} sealed item(s))").format(
            case=case_id, count=erased.personal_items_deleted)
        if erased.already:
            said += _("; it had been erased before")
        if erased.history_deleted:
            said += _("; Temporal history deleted")
        click.echo(said)


def _operator_group() -> None:
    from sinergi.commands.operators_admin import operator

    admin.add_command(operator)


_operator_group()


def _deploy_group() -> None:
    from sinergi.commands.deploy_admin import deploy

    admin.add_command(deploy)


_deploy_group()
