"""Connecting a command to Temporal (through the composition root, `sinergi.bootstrap`), once per command,
inside the command's own span."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import click

from sinergi.cases import Cases, ServiceUnavailable
from sinergi.platform import logs, telemetry
from sinergi.platform.config import Settings


@asynccontextmanager
async def cases_for(settings: Settings) -> AsyncIterator[Cases]:
    observe(settings)
    try:
        with telemetry.command_span(command_path()):
            from sinergi import bootstrap  # here: `--help` and `--version` need none of what it imports

            try:
                # The policy is read when a case opens: the other commands never need the policy file.
                # The tracing interceptor (and the Temporal worker module it imports, ~40 ms of every call) only
                # when this command's spans are exported: without an exporter, no one would see the trace.
                cases = await bootstrap.connect_cases(settings, tracing=telemetry.exporting())
            except RuntimeError as exc:
                raise ServiceUnavailable(f"cannot reach Temporal at {settings.temporal.address}: {exc}") from exc
            yield cases
    finally:
        telemetry.flush()  # the CLI leaves with os._exit: nothing would flush the spans later


def observe(settings: Settings) -> None:
    """Logs and traces of a CLI process: warnings and errors only (the output is for people), and its spans."""
    # A host that already handles logging (a test runner, `sinergi dev`) keeps its own handlers. Configured
    # when the first line is logged: a call that logs nothing imports no structlog (bench/RESULTS.md §11).
    if not logs.configured() and not logging.getLogger().handlers:
        level = settings.telemetry.log_level
        logs.configure_on_first_line("WARNING" if level in ("DEBUG", "INFO") else level,
                                     settings.telemetry.log_format)
    telemetry.setup_if_exporting(settings, telemetry.CLI)  # no SDK, no provider when spans go nowhere


def command_path() -> str:
    """`sinergi case open`, however the program was invoked (a test's CliRunner calls it `cli`)."""
    ctx = click.get_current_context(silent=True)
    parts = ctx.command_path.split()[1:] if ctx is not None else []
    return " ".join(["sinergi", *parts])
