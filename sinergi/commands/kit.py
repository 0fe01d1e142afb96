"""What every command module shares: the `App` object, the `common` options, `run` (case errors into exit
codes) and `serve_until_stopped`, the one skeleton of a long-running process (SPEC "Operator CLI", "Processes").

`sinergi.cli` and every module of `sinergi.commands` import this module; it imports neither of them, so
the command modules never reach back into `sinergi.cli` (tests/unit/test_cli_imports.py holds that line).
It stays cheap to import: `sinergi --version` and `--help` load it, so the Temporal client (behind the case
errors), the logging setup and the OpenTelemetry SDK are imported where they are used, not here.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

import click

from sinergi.commands.console import BAD_INPUT, REFUSED, UNREACHABLE, UserError
from sinergi.platform.config import Settings, load_settings

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
    # Imported here, not at the top: `sinergi.cases` brings the Temporal client, which `--help` does not need.
    from sinergi.cases import (
        CaseBusy,
        CaseError,
        CaseExists,
        CaseNotFound,
        CaseStuck,
        EventIdReused,
        EventRefused,
        NotAllowed,
        ServiceUnavailable,
    )

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]  # asyncio.run is typed for coroutines; ours all are
    except EventRefused as exc:
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


@contextmanager
def observed(settings: Settings, service: str) -> Iterator[None]:
    """Logs and traces of a long-running process named `service` (a `telemetry` service name); the spans
    still buffered are sent when it ends, since the CLI leaves with `os._exit`, which runs no exit hooks."""
    from sinergi.platform import telemetry
    from sinergi.platform.logs import configure

    configure(settings.telemetry.log_level, settings.telemetry.log_format)
    telemetry.setup(settings, service)
    try:
        yield
    finally:
        telemetry.flush()


def serve_until_stopped(settings: Settings, service: str, serve: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """The skeleton of `sinergi worker`, `gateway` and `sandbox`: logs and traces as `service`, then
    `serve(stop)` on a fresh event loop until SIGINT or SIGTERM sets `stop`.

    `serve` returns once it has wound down after `stop`; a `UserError` it raises (a port taken, Temporal out
    of reach) leaves through here to become the exit code, as any command's does.
    """

    async def until_stopped() -> None:
        stop = asyncio.Event()
        # A signal asks for an orderly stop: `serve` drains its work (workers finish their tasks, servers
        # their requests) instead of being cut off by KeyboardInterrupt.
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(stop)

    with observed(settings, service):
        asyncio.run(until_stopped())
