"""`sinergi`: the operators' command line (SPEC "Operator CLI", "Processes").

Thin by design: commands live in `sinergi.commands`; this module holds the group, the shared options
and the translation of errors into exit codes. The process ends with `os._exit` after flushing, because
a process that used the Temporal client can abort at interpreter exit (temporalio/sdk-python#300).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from sinergi import __version__
from sinergi.cases import (
    CaseBusy,
    CaseError,
    CaseExists,
    CaseNotFound,
    CaseStuck,
    EventIdReused,
    EventRejected,
    NotAllowed,
    ServiceUnavailable,
)
from sinergi.config import ConfigError, Settings, load_settings
from sinergi.console import BAD_INPUT, REFUSED, UNREACHABLE, UserError, validation_lines
from sinergi.domain.agencies import RegistryError
from sinergi.domain.policy import PolicyError

T = TypeVar("T")


class App:
    """What every command shares: the settings (loaded once, on first use) and the output mode."""

    def __init__(self, config_path: str | None, as_json: bool) -> None:
        self.config_path = config_path
        self.as_json = as_json
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings


def common(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--config` and `--json` on every command, and the App object built from them."""

    @click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="SINERGI_CONFIG",
                  help="sinergi.toml to use (default: $SINERGI_CONFIG, else ./sinergi.toml, else built-in defaults).")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout, nothing else there.")
    @click.pass_context
    @wraps(command)
    def wrapper(ctx: click.Context, config_path: str | None, as_json: bool, **kwargs: Any) -> Any:
        parent = ctx.find_object(App)
        app = App(config_path or (parent.config_path if parent else None), as_json or bool(parent and parent.as_json))
        return command(app, **kwargs)

    return wrapper


def run(coro: Awaitable[T]) -> T:
    """Run a coroutine, translating the errors every command shares into user errors with exit codes."""
    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except EventRejected as exc:
        accepted = ", ".join(exc.accepted) or "none (the case is closed)"
        raise UserError(exc.reason, REFUSED, hint=f"event types accepted now: {accepted}") from exc
    except CaseExists as exc:
        raise UserError(str(exc), REFUSED, hint="use another --id, or `sinergi case status` to see it") from exc
    except NotAllowed as exc:
        raise UserError(str(exc), REFUSED, hint="`sinergi case why` names the case's lead office; an operator "
                                                "may enter it without --as") from exc
    except EventIdReused as exc:
        raise UserError(str(exc), REFUSED, hint="leave out --event-id: a new one is made for each event") from exc
    except CaseNotFound as exc:
        raise UserError(str(exc), BAD_INPUT, hint="check the case id with `sinergi case list`") from exc
    except CaseStuck as exc:
        raise UserError(str(exc), UNREACHABLE, hint="asking again will not help: tell the engineers on duty") from exc
    except CaseBusy as exc:
        raise UserError(str(exc), UNREACHABLE, hint="the case is applying an agency's answer or a deadline; "
                                                    "run the command again") from exc
    except ServiceUnavailable as exc:
        raise UserError(str(exc), UNREACHABLE, hint="is Temporal running? start everything with `sinergi dev`") \
            from exc
    except CaseError as exc:
        raise UserError(str(exc), UNREACHABLE) from exc


def translate_startup_errors(exc: BaseException) -> UserError | None:
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


def _register() -> None:
    # Imported here: the command modules import `App`, `common` and `run` from this module.
    from sinergi.commands import admin, case, gateway, processes, registry, sandbox

    for command in (case.case, registry.policy, registry.agencies, *processes.COMMANDS, gateway.gateway,
                    sandbox.sandbox, admin.admin):
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
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
