"""`sinergi`: the operators' command line (SPEC "Operator CLI", "Processes").

Thin by design: the root group, its version, the registration of the command groups, `main` and the
translation of startup errors. What the commands share (`App`, the `--config`/`--json` options, `run` with
its exit codes, the long-running process skeleton) is `sinergi.commands.kit`; the commands live in
`sinergi.commands` and never import this module. The process ends with `os._exit` after flushing, because
a process that used the Temporal client can abort at interpreter exit (temporalio/sdk-python#300).
"""

from __future__ import annotations

import os
import sys

import click
from pydantic import ValidationError

from sinergi import __version__
from sinergi.agencies import RegistryError
from sinergi.commands import admin, case, gateway, processes, registry, report, sandbox
from sinergi.commands.console import BAD_INPUT, UNREACHABLE, UserError, validation_lines
from sinergi.commands.kit import App
from sinergi.platform.config import ConfigError
from sinergi.policies import PolicyError


def translate_startup_errors(exc: BaseException) -> UserError | None:
    """The user error behind an exception no command translated (a bad config, policy or agencies file,
    invalid input, Temporal out of reach), or None: then it is a bug, and its traceback is shown."""
    if isinstance(exc, ConfigError | PolicyError | RegistryError):
        return UserError(str(exc), BAD_INPUT)
    if isinstance(exc, ValidationError):
        return UserError("invalid input:\n  " + "\n  ".join(validation_lines(exc)), BAD_INPUT)
    if isinstance(exc, RuntimeError) and "connect" in str(exc).lower():
        return UserError(f"cannot reach Temporal: {exc}", UNREACHABLE,
                         hint="is Temporal running? start everything with `sinergi dev`")
    return None


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="sinergi")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="SINERGI_CONFIG", hidden=True)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """sinergi — carry every victim of trafficking through assistance, across agencies, on time.

    \b
    Examples:
      Start everything on this machine:   sinergi dev
      Open a case:                        sinergi case open examples/intake-pmi-malaysia.json
      See where it stands and why:        sinergi case status ID ; sinergi case why ID
      Shell completion (bash):            eval "$(_SINERGI_COMPLETE=bash_source sinergi)"
    """
    ctx.obj = App(config_path, False)


def _register(*commands: click.Command) -> None:
    for command in commands:
        cli.add_command(command)


_register(case.case, registry.policy, registry.agencies, *processes.COMMANDS, gateway.gateway, sandbox.sandbox,
          admin.admin, report.report, report.export)


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
        click.echo("aborted", err=True)
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
