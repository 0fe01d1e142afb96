"""`sinergi`: the operators' command line (SPEC "Operator CLI", "Processes").

Thin by design: the root group, its version, the registration of the command groups (`COMMANDS`, each
imported only when it is used: `--version` and `--help` stay fast), `main` and the translation of startup
errors. What the commands share (`App`, the `--config`/`--json` options, `run` with its exit codes, the
long-running process skeleton) is `sinergi.commands.kit`; the commands live in
`sinergi.commands` and never import this module. The process ends with `os._exit` after flushing, because
a process that used the Temporal client can abort at interpreter exit (temporalio/sdk-python#300).
"""

from __future__ import annotations

import os
import sys

import click

from sinergi import __version__
from sinergi.commands.console import UserError
from sinergi.commands.kit import app_from, output_options
from sinergi.commands.language import _
from sinergi.commands.root import LazyCommand, Root, translate_error

# Every command of `sinergi`: its module, imported only when the command is used, and the summary `sinergi
# --help` lists — the first paragraph of the command's own help (tests/unit/test_cli_imports.py checks both).
COMMANDS = (
    LazyCommand("admin", "sinergi.commands.admin:admin",
                "Operate a deployment: set up a namespace, check an upgrade by replay."),
    LazyCommand("agencies", "sinergi.commands.registry:agencies", "The agency registry: the MoU as configuration."),
    LazyCommand("case", "sinergi.commands.case:case", "Open, inspect and steer cases."),
    LazyCommand("completion", "sinergi.commands.completion:completion",
                "Print the completion script for SHELL: commands, options, event types."),
    LazyCommand("dev", "sinergi.commands.processes:dev",
                "The whole system on this machine: Temporal dev server and UI, worker, gateway, sandbox agencies."),
    LazyCommand("events", "sinergi.commands.events:events",
                "Every event type: its data fields, allowed values, who may send it and what it does."),
    LazyCommand("export", "sinergi.commands.report:export",
                "De-identified exports of the case record for national and international partners."),
    LazyCommand("gateway", "sinergi.commands.gateway:gateway",
                "Run the HTTP gateway: agency events in, the codec endpoint for the Temporal UI (Ctrl-C to stop)."),
    LazyCommand("policy", "sinergi.commands.registry:policy",
                "The clocks in force: durations, triggers, legal sources."),
    LazyCommand("report", "sinergi.commands.report:report",
                "Reports of the case record for the task force's coordination meeting, and the victim's access "
                "report."),
    LazyCommand("sandbox", "sinergi.commands.sandbox:sandbox",
                "Run the simulated agency systems on loopback until Ctrl-C."),
    LazyCommand("worker", "sinergi.commands.processes:worker",
                "Run a worker against the configured Temporal cluster (Ctrl-C to stop)."),
)


def translate_startup_errors(exc: BaseException) -> UserError | None:
    """The user error behind an exception no command translated, or None (a bug: its traceback is shown)."""
    return translate_error(exc)


@click.group(cls=Root, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="sinergi")
@output_options
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, profile: str | None, as_json: bool, output: str | None,
        color: str | None, lang: str | None) -> None:
    """sinergi — carry every victim of trafficking through assistance, across agencies, on time.

    \b
    Examples:
      Start everything on this machine:   sinergi dev
      Open a case:                        sinergi case open examples/intake-pmi-malaysia.json
      See where it stands and why:        sinergi case status ID ; sinergi case why ID
      What an event needs, who sends it:  sinergi events consent.recorded
      Shell completion (bash):            eval "$(sinergi completion bash)"
    """
    ctx.obj = app_from(ctx, config_path, profile, as_json, output, color, lang)


def main(argv: list[str] | None = None) -> None:
    """The `sinergi` entry point: run the command, print a user error as one message, exit with its code.

    It never returns: it flushes stdout and stderr, then leaves with `os._exit`, because a process that used
    the Temporal client can abort at interpreter exit (temporalio/sdk-python#300); spans are flushed before,
    by the commands themselves.
    """
    code = 0
    try:
        cli.main(args=argv, prog_name="sinergi", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo(_("aborted"), err=True)
        code = 130
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except Exception as exc:  # noqa: BLE001 - last line: user errors become messages, the rest a traceback
        user_error = translate_startup_errors(exc)
        if user_error is None:
            raise
        user_error.show()
        code = user_error.exit_code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
