"""`sinergi policy show` and `sinergi agencies list`: the rules and the agreement in force.

`--json` is the policy as written (English: its titles, roles and sources); the text is in the run's language,
the shipped policies' words through the catalog (a source that is a law's name is its own translation) and a
custom policy's as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from sinergi.commands.console import print_json, table
from sinergi.commands.kit import App, common
from sinergi.commands.language import N_, Group, _, words

if TYPE_CHECKING:
    from sinergi.domain.policy import WorkingDays

CLOCK_KINDS = {"statutory": N_("statutory"), "operational": N_("operational")}


@click.group(cls=Group)
def policy() -> None:
    """The clocks in force: durations, triggers, legal sources.

    \b
    Example:
      sinergi policy show --policy demo
    """


@policy.command("show")
@click.option("--policy", "policy_name", help="A policy file, or `default` / `demo` (default: from config).")
@common
def show(app: App, policy_name: str | None) -> None:
    """Every clock: duration, start and stop events, source, tag, escalation ladder.

    \b
    Examples:
      sinergi policy show
      sinergi policy show --policy demo --json
    """
    from sinergi.policies import load_policy

    loaded = load_policy(policy_name or app.settings.policy.file)
    rows = []
    for c in loaded.clocks:
        rows.append({
            "id": c.id, "title": c.title,
            "duration_seconds": c.durations[0].seconds,
            "durations_seconds": [d.seconds for d in c.durations],
            "duration": c.duration, "starts_on": c.starts_on, "stops_on": c.stops_on, "kind": c.kind, "tag": c.tag,
            "source": c.source, "victim_dependent": c.victim_dependent, "period": c.period,
            "escalation": [{"role": r.role, "agency": r.agency, "level": r.level, "after": r.after,
                            "after_seconds": r.after_seconds} for r in c.escalation],
        })
    if app.as_json:
        print_json(rows)
        return
    click.echo(_("policy {name}").format(name=loaded.name))
    click.echo(table(
        [_("id"), _("duration"), _("kind"), _("source"), _("starts on"), _("stops on"), _("escalation")],
        [[r["id"], r["duration"] if isinstance(r["duration"], str) else ", ".join(r["duration"]),
          words(CLOCK_KINDS, r["kind"]), _(r["source"]), ", ".join(r["starts_on"]),
          ", ".join(r["stops_on"]) or _("(period)"),
          " → ".join(f"{_(e['role'])}+{e['after']}" for e in r["escalation"]) or "-"] for r in rows]))
    click.echo("\n" + working_days_text(loaded.working_days))  # text only: `--json` lists the clocks, as SPEC shows


def working_days_text(days: WorkingDays) -> str:
    """What `wd` durations count, in one line in the run's language: `WorkingDays.summary` (its English, which
    tests/unit/test_cli_language.py holds this to), worded for the catalog."""
    off = days.days_off
    if not off:
        return _("working days (wd): Monday to Friday in the province's zone, weekends only")
    if not days.calendar:
        origin = _("listed in the policy")
    elif days.joint_leave:
        origin = _("calendar {calendar}, with cuti bersama").format(calendar=days.calendar)
    else:
        origin = _("calendar {calendar}").format(calendar=days.calendar)
    return _("working days (wd): Monday to Friday in the province's zone, except {days} days off {first}-{last} "
             "({origin}; {source})").format(days=len(off), first=off[0].year, last=off[-1].year, origin=origin,
                                            source=_(days.source))


@click.group(cls=Group)
def agencies() -> None:
    """The agency registry: the MoU as configuration.

    \b
    Example:
      sinergi agencies list --json
    """


@agencies.command("list")
@common
def list_agencies(app: App) -> None:
    """Every office: kind, jurisdiction, adapter, response time, events it may send, fields it receives.

    \b
    Examples:
      sinergi agencies list
      sinergi agencies list --json
    """
    from sinergi.agencies import load_registry

    registry = load_registry(app.settings.agencies.file)
    offices = [o.model_dump(exclude={"settings"}) | {"settings": sorted(o.settings)} for o in registry.offices.values()]
    if app.as_json:
        print_json(offices)
        return
    click.echo(table(
        [_("office"), _("kind"), _("jurisdiction"), _("adapter"), _("response"), _("may send"), _("receives")],
        [[o["id"], o["kind"], ",".join(o["countries"] or o["regencies"] or o["provinces"]) or _("national"),
          o["adapter"], o["response_time"], ", ".join(o["may_send"]), ", ".join(o["receives"])] for o in offices]))
