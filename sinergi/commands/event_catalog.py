"""The event vocabulary explained (`sinergi events`, `case why`, a refused `--data`), derived, never restated.

Each event type's fields come from the JSON schema of its `data` model (`sinergi.domain.events`): name, type,
whether it is required, its allowed values (a Literal's), its limits and description; what it does is the
class's `effect`, and which clocks it starts or stops is the policy's `starts_on`/`stops_on`; who may send it
is the agreement registry's `may_send` under the rules of `sinergi.domain.authority`. A new event type, field
or allowed value shows here as soon as its model has it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from sinergi.commands.console import problem
from sinergi.commands.language import N_, _, words
from sinergi.domain import authority
from sinergi.domain.agencies import Office
from sinergi.domain.events import EVENT_CLASSES, EVENT_TYPES, INTERNAL_EVENT_TYPES
from sinergi.domain.policy import Policy

SenderRule = Literal["internal", "referral", "decision", "closing", "agreement"]

# Who may send an event, by the authority rule that governs its type (SPEC "Authority"). Whole sentences, so
# each can be translated as one (`who_words`); `SendersDoc.who`, in JSON, keeps the English.
_WHO: dict[SenderRule, str] = {
    "internal": N_("sinergi records it itself: no office or operator sends it"),
    "referral": N_("only the office the referral was sent to (if its agreement allows it), or an operator"),
    "decision": N_("a decision for the case: only its lead office (if its agreement allows it), or an operator"),
    "closing": N_("the case's lead office, the office that provided {service} (if its agreement allows it), or an "
                  "operator"),
    "agreement": N_("an office taking part in the case whose agreement allows it, or an operator"),
}
# What a field takes, for people, by its JSON type (`FieldDoc.type`, which `--json` keeps).
KINDS = {"string": N_("text"), "boolean": N_("true or false"), "integer": N_("a whole number"),
         "number": N_("a number"), "array of string": N_("a list of texts")}
# The one decision another office may also give: the answer to the case's own screening referral.
_SCREENING = N_("the screening outcome: the case's lead office or the office asked to screen (if its agreement "
                "allows it), or an operator")


class FieldDoc(BaseModel):
    """One field of an event's `data`."""

    name: str
    type: str  # JSON Schema's: string, boolean, integer, number, array of string ...
    required: bool
    allowed: list[str] | None = None  # a Literal's values (of the items, for a list)
    description: str | None = None
    max_length: int | None = None
    max_items: int | None = None
    pattern: str | None = None


class SendersDoc(BaseModel):
    """Who may send an event type."""

    rule: SenderRule
    who: str
    operators: bool
    offices: list[str]  # the offices whose agreement (`may_send`) allows the type


class ClockDoc(BaseModel):
    clock: str
    title: str
    source: str
    when: str | None = None  # the qualifier, e.g. presumed_victim for `...screening_completed:presumed_victim`


class EventDoc(BaseModel):
    """An event type explained: `sinergi events TYPE --json`."""

    type: str
    family: str
    effect: str
    fields: list[FieldDoc]
    senders: SendersDoc
    starts: list[ClockDoc] = []
    stops: list[ClockDoc] = []


def public_types() -> list[str]:
    """The event types an office or operator may send, in the vocabulary's order."""
    return [t for t in EVENT_CLASSES if t not in INTERNAL_EVENT_TYPES]


def fields_of(event_type: str) -> list[FieldDoc]:
    """The fields of `event_type`'s data, read off its model's JSON schema."""
    data_model = EVENT_CLASSES[event_type].model_fields["data"].annotation
    schema = data_model.model_json_schema()  # type: ignore[union-attr]  # every `data` is a model
    required = set(schema.get("required", ()))
    return [_field(name, prop, name in required) for name, prop in schema.get("properties", {}).items()]


def _field(name: str, prop: dict[str, Any], required: bool) -> FieldDoc:
    # An optional field is `anyOf: [<its schema>, {"type": "null"}]`: describe what it is when given.
    given = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
    shape = given[0] if given else prop
    items = shape.get("items", {}) if shape.get("type") == "array" else {}
    kind = shape.get("type", "string")
    if items:
        kind = "array of {item}".format(item=items.get("type", "string"))
    allowed = items.get("enum") or shape.get("enum") or ([shape["const"]] if "const" in shape else None)
    return FieldDoc(name=name, type=kind, required=required, allowed=[str(v) for v in allowed] if allowed else None,
                    description=prop.get("description"), max_length=shape.get("maxLength") or items.get("maxLength"),
                    max_items=shape.get("maxItems"), pattern=shape.get("pattern") or items.get("pattern"))


def required_fields(event_type: str) -> list[FieldDoc]:
    return [f for f in fields_of(event_type) if f.required]


def senders_of(event_type: str, offices: Iterable[Office]) -> SendersDoc:
    """Who may send `event_type`: the rule of `sinergi.domain.authority` for it, and the offices whose
    agreement allows it (the rule may narrow them further, case by case)."""
    allowed = sorted(o.id for o in offices if o.may_send_type(event_type))
    rule = sender_rule(event_type)
    return SendersDoc(rule=rule, who=who_words(event_type), operators=rule != "internal",
                      offices=allowed if rule != "internal" else [])


def sender_rule(event_type: str) -> SenderRule:
    """The authority rule that says who may send `event_type`."""
    if event_type in INTERNAL_EVENT_TYPES:
        return "internal"
    if event_type.startswith("referral."):
        return "referral"
    if event_type in authority.CLOSERS:
        return "closing"
    if event_type in authority.DECISIONS:
        return "decision"
    return "agreement"


def who_words(event_type: str, translate: Callable[[str], str] = str) -> str:
    """Who may send `event_type`, as a sentence; `translate` puts it in a person's language (English as is)."""
    rule = sender_rule(event_type)
    if rule == "decision" and event_type == "identification.screening_completed":
        return translate(_SCREENING)
    return translate(_WHO[rule]).format(service=authority.CLOSERS.get(event_type, ""))


def clocks_of(event_type: str, policy: Policy | None) -> tuple[list[ClockDoc], list[ClockDoc]]:
    """The clocks `event_type` starts and stops under `policy` (its `starts_on` and `stops_on`)."""
    if policy is None:
        return [], []

    def matching(triggers_of) -> list[ClockDoc]:
        found = []
        for clock in policy.clocks:
            for trigger in triggers_of(clock):
                base, _sep, qualifier = trigger.partition(":")
                if base == event_type:
                    found.append(ClockDoc(clock=clock.id, title=clock.title, source=clock.source,
                                          when=qualifier or None))
        return found

    return matching(lambda c: c.starts_on), matching(lambda c: c.stops_on)


def describe(event_type: str, offices: Iterable[Office], policy: Policy | None = None) -> EventDoc:
    starts, stops = clocks_of(event_type, policy)
    return EventDoc(type=event_type, family=event_type.partition(".")[0], effect=EVENT_TYPES[event_type][2],
                    fields=fields_of(event_type), senders=senders_of(event_type, offices), starts=starts, stops=stops)


def select(pattern: str | None) -> list[str]:
    """The public event types `pattern` names: one type, a family (`referral`, `referral.*`), or all (None)."""
    types = public_types()
    if pattern is None:
        return types
    family = pattern.removesuffix(".*").removesuffix(".")
    if pattern in types:
        return [pattern]
    return [t for t in types if t.partition(".")[0] == family]


def closest(pattern: str, limit: int = 5) -> list[str]:
    """Event types that look like a mistyped `pattern`, for the refusal's hint."""
    types = public_types()
    near = difflib.get_close_matches(pattern, types, n=limit, cutoff=0.5)
    same_family = [t for t in types if t.partition(".")[0] == pattern.partition(".")[0]]
    return near or same_family[:limit] or types[:limit]


def field_errors(event_type: str, exc: ValidationError) -> list[dict[str, Any]]:
    """A refused `data`'s errors, each naming what the field takes: `{"field", "message", "type"}` as the
    gateway's `invalid_event` details, with `allowed` (a Literal's values) and `expected` (the fields the
    event takes, for an unknown one)."""
    fields = {f.name: f for f in fields_of(event_type)}
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not str(p).startswith(("tagged-union", "function-"))]
        # The discriminated union puts the type first: `data.outcome` reads better than `<type>.data.outcome`.
        if loc and loc[0] == event_type:
            loc = loc[1:]
        entry: dict[str, Any] = {"field": ".".join(loc) or "(root)", "message": problem(err), "type": err["type"]}
        got = err.get("input")
        if got is not None and not isinstance(got, dict | list) and err["type"] != "missing":
            entry["got"] = got
        name = loc[1] if len(loc) > 1 and loc[0] == "data" else None
        if name in fields and fields[name].allowed:
            entry["allowed"] = fields[name].allowed
        if err["type"] == "extra_forbidden" and loc[:1] == ["data"]:
            entry["expected"] = list(fields)
        out.append(entry)
    return out


def field_error_lines(errors: Sequence[dict[str, Any]]) -> list[str]:
    """`field_errors` for people, one line each, naming the allowed values or the expected fields."""
    lines = []
    for e in errors:
        line = "{field}: {message}".format(field=e["field"], message=e["message"])
        if "got" in e:
            line = _("{line} (got {got!r})").format(line=line, got=e["got"])
        if e.get("allowed") and e["type"] != "literal_error":  # pydantic's literal message lists them already
            line = _("{line}; allowed: {allowed}").format(line=line, allowed=" | ".join(e["allowed"]))
        if "expected" in e:
            expected = ", ".join(e["expected"]) or _("no data")
            line = _("{line}; this event takes: {expected}").format(line=line, expected=expected)
        lines.append(line)
    return lines


def field_summary(field: FieldDoc) -> str:
    """`outcome (presumed_victim | not_victim | needs_more_info)`, `report_number (text)`: the kind of value in
    the run's language (`KINDS`; a type it does not name, as JSON Schema names it)."""
    if field.allowed:
        what = " | ".join(field.allowed)
        return _("{name} (list of: {values})").format(name=field.name, values=what) \
            if field.type.startswith("array") else f"{field.name} ({what})"
    return f"{field.name} ({words(KINDS, field.type)})"
