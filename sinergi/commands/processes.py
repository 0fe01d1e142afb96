"""`sinergi dev` and `sinergi worker`: the long-running processes (SPEC "Processes")."""

from __future__ import annotations

import asyncio

import click

from sinergi.commands.console import UNREACHABLE, UserError
from sinergi.commands.kit import App, common, observed, serve_until_stopped

DEV_METRICS_ADDRESS = "127.0.0.1:9464"


@click.command()
@common
def worker(app: App) -> None:
    """Run a worker against the configured Temporal cluster (Ctrl-C to stop).

    \b
    Example:
      SINERGI_TEMPORAL_ADDRESS=temporal:7233 sinergi worker
    """
    from sinergi.bootstrap import agency_activities
    from sinergi.platform import telemetry
    from sinergi.platform.temporal import connect
    from sinergi.worker import build_workers, run_workers

    settings = app.settings

    async def work(stop: asyncio.Event) -> None:
        try:
            client = await connect(settings, runtime=telemetry.worker_runtime(settings))
        except RuntimeError as exc:
            raise UserError(f"cannot reach Temporal at {settings.temporal.address}: {exc}", UNREACHABLE) from exc
        async with agency_activities(settings) as activities:
            await run_workers(build_workers(client, settings.temporal.task_queue, activities,
                                            max_cached_workflows=settings.temporal.max_cached_workflows), stop)

    serve_until_stopped(settings, telemetry.WORKER, work)


@click.command()
@click.option("--no-sandbox", is_flag=True, help="Use the adapters configured in the agencies file.")
@click.option("--demo", "demo", type=click.IntRange(min=0), default=0, metavar="N",
              help="Also open N sample cases on the demo policy, carried through by the sandbox.")
@common
def dev(app: App, no_sandbox: bool, demo: int) -> None:
    """The whole system on this machine: Temporal dev server and UI, worker, gateway, sandbox agencies.

    \b
    Examples:
      sinergi dev
      sinergi dev --demo 5
    """
    from sinergi.devserver import run_dev
    from sinergi.platform import telemetry

    settings = app.settings
    if settings.telemetry.metrics_address is None:  # dev shows the worker's metrics unless told otherwise
        settings = settings.model_copy(update={"telemetry": settings.telemetry.model_copy(
            update={"metrics_address": DEV_METRICS_ADDRESS})})
    # Not `serve_until_stopped`: `run_dev` runs its own loop and child processes, and stops them itself.
    with observed(settings, telemetry.DEV):
        run_dev(settings, sandbox=not no_sandbox, demo=demo)


COMMANDS = [worker, dev]
