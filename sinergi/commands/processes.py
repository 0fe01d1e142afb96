"""`sinergi dev` and `sinergi worker`: the long-running processes (SPEC "Processes")."""

from __future__ import annotations

import asyncio
import signal

import click

from sinergi import telemetry
from sinergi.cli import App, common
from sinergi.console import UNREACHABLE, UserError
from sinergi.logs import configure

DEV_METRICS_ADDRESS = "127.0.0.1:9464"


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


@click.command()
@common
def worker(app: App) -> None:
    """Run a worker against the configured Temporal cluster (Ctrl-C to stop).

    \b
    Example:
      SINERGI_TEMPORAL_ADDRESS=temporal:7233 sinergi worker
    """
    from sinergi.temporal import connect
    from sinergi.worker import agency_activities, build_workers, run_workers

    settings = app.settings
    configure(settings.telemetry.log_level, settings.telemetry.log_format)
    telemetry.setup(settings, telemetry.WORKER)

    async def go() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        try:
            client = await connect(settings, runtime=telemetry.worker_runtime(settings))
        except RuntimeError as exc:
            raise UserError(f"cannot reach Temporal at {settings.temporal.address}: {exc}", UNREACHABLE) from exc
        async with agency_activities(settings) as activities:
            await run_workers(build_workers(client, settings.temporal.task_queue, activities,
                                            max_cached_workflows=settings.temporal.max_cached_workflows), stop)

    try:
        asyncio.run(go())
    finally:
        telemetry.flush()


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

    settings = app.settings
    if settings.telemetry.metrics_address is None:  # dev shows the worker's metrics unless told otherwise
        settings = settings.model_copy(update={"telemetry": settings.telemetry.model_copy(
            update={"metrics_address": DEV_METRICS_ADDRESS})})
    configure(settings.telemetry.log_level, settings.telemetry.log_format)
    telemetry.setup(settings, telemetry.DEV)
    try:
        run_dev(settings, sandbox=not no_sandbox, demo=demo)
    finally:
        telemetry.flush()


COMMANDS = [worker, dev]
