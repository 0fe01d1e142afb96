"""`sinergi dev` and `sinergi worker`: the long-running processes (SPEC "Processes")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from sinergi.commands.console import BAD_INPUT, UNREACHABLE, UserError
from sinergi.commands.kit import App, common, observed, serve_until_stopped
from sinergi.commands.language import Command, _

if TYPE_CHECKING:
    import asyncio

DEV_METRICS_ADDRESS = "127.0.0.1:9464"
# How long `sinergi worker` waits for Temporal to answer before it gives up (exit 3).
CONNECT_WAIT_SECONDS = 30.0


@click.command(cls=Command)
@common
def worker(app: App) -> None:
    """Run a worker against the configured Temporal cluster (Ctrl-C to stop).

    \b
    Example:
      SINERGI_TEMPORAL_ADDRESS=temporal:7233 sinergi worker
    """
    import asyncio

    import structlog

    from sinergi.bootstrap import agency_activities, worker_version
    from sinergi.platform import telemetry
    from sinergi.platform.temporal import connect
    from sinergi.worker import build_workers, run_workers

    settings = app.settings

    async def work(stop: asyncio.Event) -> None:
        # A worker started while the server restarts (a deploy, a crash) waits for it rather than exiting
        # at once: nothing would start it again on a host without a supervisor.
        runtime = telemetry.worker_runtime(settings)
        deadline = asyncio.get_running_loop().time() + CONNECT_WAIT_SECONDS
        while True:
            try:
                client = await connect(settings, runtime=runtime, keys=True, sealed_only=True)
                break
            except RuntimeError as exc:
                if asyncio.get_running_loop().time() >= deadline or stop.is_set():
                    raise UserError(_("cannot reach Temporal at {address}: {error}").format(
                                        address=settings.temporal.address, error=exc), UNREACHABLE) from exc
                structlog.get_logger("sinergi.worker").warning("temporal_unreachable_retrying",
                                                               address=settings.temporal.address)
                await asyncio.sleep(1.0)
        # Worker Versioning (README "Upgrading workers"): this build polls as a version of the deployment.
        version = worker_version(settings)
        async with agency_activities(settings) as activities:
            await run_workers(build_workers(client, settings.temporal.task_queue, activities,
                                            max_cached_workflows=settings.temporal.max_cached_workflows,
                                            version=version), stop, version=version)

    serve_until_stopped(settings, telemetry.WORKER, work)


@click.command(cls=Command)
@click.option("--no-sandbox", is_flag=True, help="Use the adapters configured in the agencies file.")
@click.option("--demo", "demo", type=click.IntRange(min=0), default=0, metavar="N",
              help="Also open N sample cases on the demo policy, carried through by the sandbox.")
@click.option("--people", "people", default=None, metavar="OFFICE,...|all|none",
              help="E-mail offices left to people (a training): their mail waits at /dev/mail for a person to "
                   "answer on the page. Default: all of them, or none with --demo.")
@common
def dev(app: App, no_sandbox: bool, demo: int, people: str | None) -> None:
    """The whole system on this machine: Temporal dev server and UI, worker, gateway, sandbox agencies.

    \b
    Examples:
      sinergi dev
      sinergi dev --demo 5
      sinergi dev --demo 3 --people dinsos_kalsel,ngo_kalsel
    """
    from sinergi import bootstrap
    from sinergi.commands.sandbox import people_option
    from sinergi.devserver import run_dev
    from sinergi.platform import telemetry

    settings = app.settings
    if people is not None and no_sandbox:
        raise UserError(_("--people leaves some sandbox offices to people: it needs the sandbox (drop "
                          "--no-sandbox)"), BAD_INPUT)
    # Without a demo, the e-mail offices wait for a person at /dev/mail; a demo plays them all unless told.
    left = people_option(people or ("none" if demo else "all"), bootstrap.office_registry(settings))
    if settings.telemetry.metrics_address is None:  # dev shows the worker's metrics unless told otherwise
        settings = settings.model_copy(update={"telemetry": settings.telemetry.model_copy(
            update={"metrics_address": DEV_METRICS_ADDRESS})})
    # Not `serve_until_stopped`: `run_dev` runs its own loop and child processes, and stops them itself.
    with observed(settings, telemetry.DEV):
        run_dev(settings, sandbox=not no_sandbox, demo=demo, people=left)


COMMANDS = [worker, dev]
