"""`sinergi admin ...`: what an operator runs on every deploy — register the search attributes, and
replay histories against the new code before it takes over (README "Running in production")."""

from __future__ import annotations

import logging
from pathlib import Path

import click
from temporalio.service import RPCStatusCode

from sinergi.commands.console import BAD_INPUT, REFUSED, UNREACHABLE, UserError, print_json
from sinergi.commands.kit import App, common


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
        click.echo(f"namespace {namespace}: registered {', '.join(added)}")
    else:
        click.echo(f"namespace {namespace}: all {len(present)} search attributes already registered; nothing to do")


@admin.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--from-namespace", is_flag=True,
              help="Replay the newest executions of the configured namespace (running and closed).")
@click.option("--query", default=None, metavar="Q",
              help="Visibility query choosing the executions (default: every CaseWorkflow).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="At most this many executions from the namespace.")
@common
def replay(app: App, files: tuple[Path, ...], from_namespace: bool, query: str | None, limit: int) -> None:
    """Replay histories against this code; exit 1 if any is not deterministic (or cannot be replayed).

    FILES are saved histories (tests/replay/histories/*.json, or `temporal workflow show --output json`).
    Payloads are decoded with the configured codec keys, so every key a history used must be in the keys file.

    \b
    Examples:
      sinergi admin replay tests/replay/histories/*.json
      sinergi admin replay --from-namespace --limit 500
      sinergi admin replay --from-namespace --query "ExecutionStatus = 'Running'"
    """
    from sinergi.commands.admin_ops import read_histories, replay_histories

    if not files and not from_namespace:
        raise UserError("nothing to replay", BAD_INPUT, hint="give history FILES, or --from-namespace")
    if (query is not None) and not from_namespace:
        raise UserError("--query needs --from-namespace", BAD_INPUT)
    histories = read_histories(files)  # bad files are refused before anything connects
    # The SDK logs a traceback for every history that fails; the report below says it in one line.
    logging.getLogger("temporalio.worker._workflow").setLevel(logging.CRITICAL)
    settings = app.settings
    report = _run(replay_histories(settings, histories, from_namespace, query, limit), settings.temporal.address)
    if app.as_json:
        print_json({"replayed": report.replayed, "failures": report.failures, "ok": report.ok})
    else:
        _print_report(report)
    if not report.ok:
        failed = len(report.failures)
        raise UserError(f"{failed} of {len(report.replayed)} histories do not replay on this code", REFUSED,
                        hint="guard the change with workflow.patched(...) so running cases keep their path; "
                             "a history that cannot be decoded needs its key in the keys file "
                             "(README \"Safe upgrades\")")


def _print_report(report) -> None:
    for workflow_id, failure in report.failures.items():
        verdict = "NOT DETERMINISTIC" if "Nondeterminism" in failure else "CANNOT REPLAY"
        click.echo(f"{click.style(verdict, fg='red', bold=True)}  {workflow_id}\n    {failure}")
    ok = len(report.replayed) - len(report.failures)
    click.echo(f"replayed {len(report.replayed)} histories: {ok} ok, {len(report.failures)} failed")
    if not report.replayed:
        click.echo("note: no execution matched: nothing was checked", err=True)


def _run(coro, address: str):
    """Run `coro`, translating Temporal's refusals: unreachable is exit 3, a wrong namespace or credential 2."""
    import asyncio

    from temporalio.service import RPCError

    try:
        return asyncio.run(coro)
    except RuntimeError as exc:
        if "connect" not in str(exc).lower():
            raise
        raise UserError(f"cannot reach Temporal at {address}: {exc}", UNREACHABLE,
                        hint="check [temporal] address, tls_* and api_key_env (or SINERGI_TEMPORAL_*)") from exc
    except RPCError as exc:
        message = f"Temporal at {address} refused: {exc.message or exc.status.name}"
        if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise UserError(message, UNREACHABLE) from exc
        raise UserError(message, BAD_INPUT, hint=_refusal_hint(exc.status)) from exc


def _refusal_hint(status: RPCStatusCode) -> str | None:
    if status == RPCStatusCode.NOT_FOUND:
        return "does the namespace exist? (temporal operator namespace create -n NAME)"
    if status == RPCStatusCode.PERMISSION_DENIED:
        from sinergi.platform.temporal import search_attribute_flags

        wanted = " ".join(search_attribute_flags()[1::2])
        return f"if this key may not change the namespace (Temporal Cloud: use the Cloud UI or tcld), add: {wanted}"
    if status == RPCStatusCode.UNAUTHENTICATED:
        return "check [temporal] tls_cert_file / tls_key_file or api_key_env"
    return None
