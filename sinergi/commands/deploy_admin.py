"""`sinergi admin deploy ...`: roll out a new worker build with Temporal's Worker Versioning (README "Upgrading
workers"): see which build runs the cases, and make another one current.

Talks to Temporal only: no payload is read, so no codec key or endpoint is needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from sinergi.commands.console import BAD_INPUT, REFUSED, UserError, print_json, table
from sinergi.commands.kit import App, common
from sinergi.commands.language import _
from sinergi.commands.temporal_calls import run_admin

if TYPE_CHECKING:
    from sinergi.platform.config import Settings

DEPLOYMENT_OPTION = click.option("--deployment", "deployment", default=None, metavar="NAME",
                                 help="The worker deployment (default: [temporal] deployment_name, else the task "
                                      "queue's name).")


@click.group("deploy")
def deploy() -> None:
    """Roll out a worker build: which build runs the cases, and making another one current.

    \b
    Examples:
      sinergi admin deploy status
      sinergi admin deploy set-current 0.2.0-3f9c2a81d0e4
      sinergi admin deploy set-current --unversioned
      sinergi admin deploy ramp 0.2.0-3f9c2a81d0e4 --percent 10
    """


def _run(coro, settings: Settings) -> Any:
    """`sinergi admin`'s run (Temporal unreachable: exit 3; a refusal: exit 2 with the server's reason), where an
    unknown build is a refusal of its own."""
    return run_admin(coro, settings.temporal.address, not_found=UserError(
        "", REFUSED, code="version_not_found",
        hint=_("a build is known once its workers poll: start them (with versioning on), then run this again; "
               "`sinergi admin deploy status` lists the builds")))


def _names(settings: Settings, deployment: str | None) -> tuple[str, str]:
    from sinergi.platform.versioning import build_id, deployment_name

    return deployment or deployment_name(settings), build_id(settings)


@deploy.command("status")
@DEPLOYMENT_OPTION
@common
def status(app: App, deployment: str | None) -> None:
    """Show the current build, every build the deployment knows, and this installation's build.

    \b
    Statuses: current (takes new cases; running cases move to it), ramping, draining (still has
    cases on it), drained (none: its workers may stop), inactive (never current).

    \b
    Examples:
      sinergi admin deploy status
      sinergi admin deploy status --json
    """
    from sinergi.platform.versioning import admin_client, describe

    settings = app.settings
    name, mine = _names(settings, deployment)

    async def ask():
        return await describe(await admin_client(settings), name)

    found = _run(ask(), settings)
    versions = [{"build_id": v.build_id, "status": v.status,
                 "created": v.created.isoformat() + "Z" if v.created else None} for v in (found.versions if found
                                                                                          else [])]
    summary = {"deployment": name, "namespace": settings.temporal.namespace,
               "versioning": settings.temporal.versioning, "this_build": mine,
               "current": found.current if found else None, "ramping": found.ramping if found else None,
               "ramping_percentage": found.ramping_percentage if found else 0.0, "versions": versions}
    if app.as_json:
        print_json(summary)
        return
    if found is None:
        click.echo(_("deployment {name} (namespace {namespace}): no versioned worker has polled yet; new cases go "
                     "to unversioned workers.").format(name=name, namespace=settings.temporal.namespace))
        click.echo(_("this installation's build: {build} (versioning {versioning})").format(
            build=mine, versioning=settings.temporal.versioning))
        return
    click.echo(_("deployment {name} (namespace {namespace}): current build {build}").format(
        name=name, namespace=settings.temporal.namespace, build=found.current or _("none (unversioned workers)"))
        + (_(", ramping {build} at {percent}%").format(build=found.ramping, percent=f"{found.ramping_percentage:g}")
           if found.ramping else ""))
    click.echo(table([_("build"), _("status"), _("created (UTC)"), ""],
                     [[v["build_id"], v["status"], (v["created"] or "-")[:19].replace("T", " "),
                       _("this installation") if v["build_id"] == mine else ""] for v in versions]))
    if not any(v["build_id"] == mine for v in versions):
        click.echo(_("this installation's build: {build} (no worker of it has polled)").format(build=mine))


@deploy.command("set-current")
@click.argument("build", required=False)
@click.option("--unversioned", is_flag=True,
              help="Send cases to unversioned workers again (to go back to workers with versioning off).")
@click.option("--wait", type=click.FloatRange(min=0), default=30.0, show_default=True, metavar="SECONDS",
              help="Wait this long for the build's workers to poll before giving up.")
@DEPLOYMENT_OPTION
@common
def set_current(app: App, build: str | None, unversioned: bool, wait: float, deployment: str | None) -> None:
    """Make BUILD the current build: new cases start on it, running cases move to it at their next task.

    BUILD defaults to this installation's build (`sinergi admin deploy status` shows it): run from the new
    image, it promotes that image. Start the new build's workers first (with `[temporal] versioning =
    "manual"` they wait for this), and check it with `sinergi admin replay` before. Going back to an older
    build is the same command with the older build id, as long as its workers run and no case has recorded
    anything it cannot read (README "Upgrading workers").

    \b
    Examples:
      sinergi admin deploy set-current
      sinergi admin deploy set-current 0.2.0-3f9c2a81d0e4 --wait 120
      sinergi admin deploy set-current --unversioned
    """
    from sinergi.platform.versioning import admin_client, describe
    from sinergi.platform.versioning import set_current as make_current

    if build and unversioned:
        raise UserError(_("give a BUILD or --unversioned, not both"), BAD_INPUT, code="usage")
    settings = app.settings
    name, mine = _names(settings, deployment)
    target = None if unversioned else (build or mine)

    async def switch() -> tuple[str | None, bool]:
        client = await admin_client(settings)
        found = await describe(client, name)
        if (found.current if found is not None else None) == target:
            return target, False  # already current (unversioned: no versioned worker ever polled)
        return await make_current(client, name, target, wait=wait), True

    before, changed = _run(switch(), settings)
    shown = target or _("none (unversioned workers)")
    if app.as_json:
        print_json({"deployment": name, "current": target, "previous": before, "changed": changed})
    elif changed:
        click.echo(_("deployment {name}: current build is now {build} (was {before}); new cases start on it, "
                     "running cases move to it at their next task").format(
            name=name, build=shown, before=before or _("unversioned workers")))
    else:
        click.echo(_("deployment {name}: {build} is already current; nothing to do").format(name=name, build=shown))


@deploy.command("ramp")
@click.argument("build", required=False)
@click.option("--percent", type=click.FloatRange(min=0, max=100, min_open=True), default=None, metavar="P",
              help="The share of cases (0 < P <= 100) the build takes: new cases, and running ones at their next "
                   "task, chosen by case id.")
@click.option("--stop", "stop", is_flag=True, help="Stop ramping: every case goes to the current build again.")
@click.option("--wait", type=click.FloatRange(min=0), default=30.0, show_default=True, metavar="SECONDS",
              help="Wait this long for the build's workers to poll before giving up.")
@DEPLOYMENT_OPTION
@common
def ramp(app: App, build: str | None, percent: float | None, stop: bool, wait: float, deployment: str | None) -> None:
    """Try BUILD on a share of the cases before making it current.

    With `[temporal] versioning = "manual"`, start the new build's workers, check it with `sinergi admin replay`,
    then ramp it: it takes P% of the new cases and of the running cases (chosen by case id, so a case stays on
    one side), the current build the rest. Raise P step by step while `sinergi admin deploy status` and the
    worker's logs look well; finish with `set-current BUILD`, which ends the ramp. `--stop` sends every case back
    to the current build (README "Upgrading workers"). BUILD defaults to this installation's build.

    \b
    Examples:
      sinergi admin deploy ramp 0.2.0-3f9c2a81d0e4 --percent 10
      sinergi admin deploy ramp --percent 50
      sinergi admin deploy ramp --stop
    """
    from sinergi.platform.versioning import admin_client, describe, set_ramping

    if stop and (build or percent is not None):
        raise UserError(_("give --stop alone, or a BUILD with --percent"), BAD_INPUT, code="usage")
    if not stop and percent is None:
        raise UserError(_("how much? give --percent P (0 < P <= 100), or --stop"), BAD_INPUT, code="usage")
    settings = app.settings
    name, mine = _names(settings, deployment)
    target = None if stop else (build or mine)

    async def change():
        client = await admin_client(settings)
        found = await describe(client, name)
        current = found.current if found is not None else None
        if target is not None and target == current:
            raise UserError(_("{build} is already current: it takes every case; ramp another build").format(
                build=target), REFUSED, code="already_current")
        before = await set_ramping(client, name, target, percent or 0.0, wait=wait)
        return current, before

    current, (previous, previous_percent) = _run(change(), settings)
    if app.as_json:
        print_json({"deployment": name, "current": current, "ramping": target, "percentage": percent or 0.0,
                    "previous": previous, "previous_percentage": previous_percent})
    elif target is None:
        click.echo(_("deployment {name}: no build ramps now; every case goes to {current}").format(
            name=name, current=current or _("unversioned workers")))
    else:
        click.echo(_("deployment {name}: {build} takes {percent}% of the cases (new ones, and running ones at their "
                     "next task); {current} the rest").format(
            name=name, build=target, percent=f"{percent:g}", current=current or _("unversioned workers")))
