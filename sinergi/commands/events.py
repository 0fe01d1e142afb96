"""`sinergi events [TYPE]`: every event type, its data, who may send it and what it does (`event_catalog`).

`--json` is the catalog as the models and the policy word it (English, as the API schema: GET /v1/openapi.json);
the text is for people, in the run's language: what a type does, each field's description and each clock's title
and source go through the catalog (`sinergi.cli_catalogs` extracts the models' and the shipped policies'), and a
custom policy's words the catalog does not hold show as written.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from sinergi.commands.console import BAD_INPUT, UserError, print_json, table
from sinergi.commands.kit import App, common
from sinergi.commands.language import N_, Command, _, words
from sinergi.commands.params import complete_event_type

if TYPE_CHECKING:
    from sinergi.commands import event_catalog as catalog

# `SENT BY` in the list, by authority rule: the long form is `sinergi events TYPE`.
_SENT_BY = {
    "internal": N_("sinergi itself"),
    "referral": N_("the referral's office; operators"),
    "decision": N_("the lead office; operators"),
    "closing": N_("the lead or serving office; operators"),
    "agreement": N_("offices by agreement; operators"),
}

# A clock an event starts or stops, and one it starts or stops only with a given outcome (`...:presumed_victim`).
_STARTS = (N_("starts {clock}: {title} — {source}"), N_("starts {clock} when {when}: {title} — {source}"))
_STOPS = (N_("stops {clock}: {title} — {source}"), N_("stops {clock} when {when}: {title} — {source}"))


def complete_type_or_family(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion of TYPE: the event types, and their families (`referral.*`)."""
    from sinergi.commands import event_catalog as catalog

    families = sorted({"{family}.*".format(family=t.partition(".")[0]) for t in catalog.public_types()})
    return [*complete_event_type(ctx, param, incomplete), *(f for f in families if f.startswith(incomplete))]


@click.command(cls=Command)
@click.argument("type_", metavar="[TYPE]", required=False, shell_complete=complete_type_or_family)
@common
def events(app: App, type_: str | None) -> None:
    """Every event type: its data fields, allowed values, who may send it and what it does.

    TYPE narrows it to one type (`consent.recorded`) or a family (`referral`, `referral.*`), shown in full: each
    field with its allowed values, the clocks the event starts and stops, the offices whose agreement allows
    it, and an example. Read from the event models, the agreement registry and the policy in force: what is
    shown here is what `sinergi case event` and the gateway accept (its OpenAPI document: GET /v1/openapi.json).

    \b
    Examples:
      sinergi events
      sinergi events consent.recorded
      sinergi events referral --json
    """
    # Here, not at the top: the catalog is read off the domain's models, which `sinergi --help` does not need.
    from sinergi.commands import event_catalog as catalog

    types = catalog.select(type_)
    if not types:
        near = catalog.closest(type_ or "")
        raise UserError(_("unknown event type {type!r}").format(type=type_), BAD_INPUT, code="unknown_event_type",
                        hint=_("known types include: {near}; `sinergi events` lists them all").format(
                            near=", ".join(near)), details={"known": near})
    offices, policy = _registry_and_policy(app)
    docs = [catalog.describe(t, offices, policy) for t in types]
    if app.as_json:
        print_json(docs)
    elif type_ is None:
        click.echo(_list_text(docs))
    else:
        click.echo("\n\n".join(_full_text(doc) for doc in docs))


def _registry_and_policy(app: App):
    # The agencies file in force, as `bootstrap.office_registry` reads it, without importing the composition
    # root (Temporal, aiohttp): only the offices' agreements are needed here.
    from sinergi.agencies import load_registry
    from sinergi.policies import load_policy

    settings = app.settings
    return list(load_registry(settings.agencies.file).offices.values()), load_policy(settings.policy.file)


def _list_text(docs: list[catalog.EventDoc]) -> str:
    rows = [[d.type, ", ".join(f.name + ("*" if f.required else "") for f in d.fields) or "-",
             words(_SENT_BY, d.senders.rule), _(d.effect)] for d in docs]
    notes = [_("* required.  `sinergi events TYPE` shows a type's fields, allowed values, clocks and offices."),
             _("The same events over HTTP: the gateway's OpenAPI document, GET /v1/openapi.json.")]
    return "\n".join([table([_("type"), _("data"), _("sent by"), _("what it does")], rows), "", *notes])


def _full_text(d: catalog.EventDoc) -> str:
    from sinergi.commands import event_catalog as catalog

    lines = [click.style(d.type, bold=True), "  " + _("what it does: {effect}").format(effect=_(d.effect))]
    for clocks, (always, qualified) in ((d.starts, _STARTS), (d.stops, _STOPS)):
        for c in clocks:
            template = qualified if c.when else always
            lines.append("  " + _(template).format(clock=c.clock, when=c.when, title=_(c.title), source=_(c.source)))
    lines.append("  " + (_("data:") if d.fields else _("data: none")))
    need = {True: _("required"), False: _("optional")}
    width = max(len(word) for word in need.values())
    for f in d.fields:
        lines.append("    {name:<22} {need:<{width}} {what}".format(
            name=f.name, need=need[f.required], width=width, what=_takes(f)))
        if f.description:
            lines.append("    {blank:<22} {blank:<{width}} {description}".format(
                blank="", width=width, description=_(f.description)))
    lines.append("  " + _("sent by: {who}").format(who=catalog.who_words(d.type, _)))
    if d.senders.offices:
        lines.append("  " + _("offices whose agreement allows it: {offices}").format(
            offices=", ".join(d.senders.offices)))
    lines.append("  " + _("example: {command}").format(command=f"sinergi case event CASE_ID {d.type}{_example(d)}"))
    return "\n".join(lines)


def _takes(f: catalog.FieldDoc) -> str:
    """`one of: a | b`, `a list of: a | b (at most 50)`, `text (at most 200 characters)`: what a field takes, for
    people, by its JSON type (`event_catalog.KINDS`), with its limits."""
    from sinergi.commands.event_catalog import KINDS

    listed = f.type.startswith("array")
    if f.allowed:
        values = " | ".join(f.allowed)
        if listed:
            return (_("a list of: {values} (at most {items})") if f.max_items else _("a list of: {values}")).format(
                values=values, items=f.max_items)
        return _("one of: {values}").format(values=values)
    kind = words(KINDS, f.type)
    if listed and f.max_items and f.max_length:
        said = _("{kind} (at most {items}, each at most {length} characters)")
    elif listed and f.max_items:
        said = _("{kind} (at most {items})")
    elif f.max_length:
        said = _("{kind} (at most {length} characters)")
    else:
        said = "{kind}"
    return said.format(kind=kind, items=f.max_items, length=f.max_length)


def _example(d: catalog.EventDoc) -> str:
    """`--data '{...}'` with a value for each required field (the first allowed one, where there is a list)."""
    data: dict[str, Any] = {}
    for f in d.fields:
        if not f.required:
            continue
        if f.allowed:
            data[f.name] = [f.allowed[0]] if f.type.startswith("array") else f.allowed[0]
        elif f.type == "boolean":
            data[f.name] = True
        elif f.type.startswith("array"):
            data[f.name] = []
        else:
            data[f.name] = "..."
    return f" --data '{json.dumps(data)}'" if data else ""
