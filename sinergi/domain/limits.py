"""Limits (SPEC "Limits"): bad input never grows a case without bound.

Every string an office or operator sends has a maximum length and every list a maximum size, so one
event is small; the case then keeps only what its rules need (`compact`), so many events are small too.
Whatever is trimmed here lives on in the workflow's history and, later, in the case record; the state
carried across continue-as-new stays well under `STATE_MAX_BYTES` however long the case lives.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

if TYPE_CHECKING:
    from sinergi.domain.case import CaseState

NAME_MAX = 200  # names: a facility, a mission, an office's name
TEXT_MAX = 2_000  # free text: a reason, a note
ID_MAX = 100  # ids and codes: a report number, an office id, an indicator
PLACE_MAX = 100  # a province or regency as written (the decree's longest name has 39 characters)
ITEMS_MAX = 50  # any list
DOCUMENT_MAX_BYTES = 64 * 1024  # one JSON document: an event envelope, an intake

OFFICE_ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,99}$"

# Limits are checked where input enters — the gateway, the CLI, a bulk file (`STRICT`, the validation
# context they pass) — and by the case's update validator, never where a stored model is read back: a
# replayed history or a continued run holds events and intakes accepted before these limits existed, and
# refusing to read them would stop those cases for good.
STRICT = {"sinergi_limits": True}


def is_strict(info: ValidationInfo) -> bool:
    """Whether this validation is input entering (`STRICT`), not a stored model read back: only then may a
    validator refuse what it once let through, or rewrite a value into its canonical form."""
    return bool(info.context and info.context.get("sinergi_limits"))


_strict = is_strict


def _max_length(limit: int):
    def check(value, info: ValidationInfo):
        if _strict(info) and len(value) > limit:
            kind = "String" if isinstance(value, str) else "List"
            unit = "characters" if isinstance(value, str) else "items"
            raise PydanticCustomError(f"{kind.lower()}_too_long", f"{kind} should have at most {{limit}} {unit}",
                                      {"limit": limit})
        return value
    return AfterValidator(check)


def at_most(limit: int) -> Any:
    """At most `limit` characters or items where input enters (`STRICT`); a stored model read back as written."""
    return _max_length(limit)


def _matches(pattern: str):
    compiled = re.compile(pattern)

    def check(value, info: ValidationInfo):
        if _strict(info) and value is not None and not compiled.match(value):
            raise PydanticCustomError("string_pattern_mismatch", "String should match pattern '{pattern}'",
                                      {"pattern": pattern})
        return value
    return AfterValidator(check)


def Text(limit: int) -> Any:  # noqa: N802 - reads as a type in a model: `Text(NAME_MAX)`
    """A string of at most `limit` characters (checked at the edges)."""
    return Annotated[str, _max_length(limit), WithJsonSchema({"type": "string", "maxLength": limit})]


def Items(item: Any, limit: int = ITEMS_MAX) -> Any:  # noqa: N802 - reads as a type: `Items(Id)`
    """A list of at most `limit` items (checked at the edges)."""
    return Annotated[list[item], _max_length(limit), Field(json_schema_extra={"maxItems": limit})]


Id = Annotated[str, _max_length(ID_MAX), WithJsonSchema({"type": "string", "maxLength": ID_MAX})]
OfficeId = Annotated[str, _max_length(ID_MAX), _matches(OFFICE_ID_PATTERN), WithJsonSchema(
    {"type": "string", "maxLength": ID_MAX, "pattern": OFFICE_ID_PATTERN})]

# The state a case carries across continue-as-new must stay under this (the payload limit is 2 MB; a
# workflow task whose continue-as-new input is larger fails for good). Past `STATE_SOFT_MAX_BYTES` a case
# takes events from operators only: the largest growth one event can cause then still fits.
STATE_MAX_BYTES = 256 * 1024
STATE_SOFT_MAX_BYTES = 160 * 1024
# What the case keeps of what only grows: the newest timeline entries, applied-event keys per sender, and
# (rules v4) what has ended. The timeline is for people (`case timeline`); the rules read none of it.
# Applied keys answer a retried event as a duplicate: an office retries its own event before it has sent
# a hundred newer ones, and no other office's events can push its keys out.
TIMELINE_KEPT = 250
APPLIED_KEPT_PER_SENDER = 100
ENDED_KEPT = 50
NOTE_MAX = 300  # a timeline entry's text as the case keeps it
REASON_MAX = 500  # a reason (a decline, an escalation, a manual task) as the case keeps it

# How long a sealed event stays good for its case (`authority.stale`): sealing and applying take seconds (a client
# retries a refused task at once); anything older is a copy, or held back. How far the sealer's clock (the
# gateway's, a trusted server's) may run ahead of Temporal's.
SEALED_MAX_AGE = timedelta(minutes=10)
SEALED_MAX_AHEAD = timedelta(minutes=5)

EARLIEST_OCCURRED_AT = datetime(1990, 1, 1, tzinfo=UTC)
LATEST_AHEAD = timedelta(days=1)  # clocks drift and zones get confused, but not by more than a day


def _no_number(value: object, info: ValidationInfo) -> object:
    # pydantic reads a number as seconds since 1970: `12345` would be an event of 1970. Refuse it.
    if _strict(info) and isinstance(value, int | float):  # bool is an int too
        raise PydanticCustomError("datetime_type", "expected an RFC 3339 date-time string, e.g. "
                                  "2026-11-27T08:00:00+08:00")
    return value


def _not_before_1990(value: datetime, info: ValidationInfo) -> datetime:
    if _strict(info) and value < EARLIEST_OCCURRED_AT:
        raise PydanticCustomError("datetime_too_early", "must not be before 1990-01-01")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_no_number), AfterValidator(_not_before_1990)]


def refusal(model: BaseModel) -> str | None:
    """Why `model` (read leniently, e.g. an update's argument) breaks the limits, or None: it is validated
    again as the edges validate it."""
    try:
        type(model).model_validate(model.model_dump(), context=STRICT)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"][1:] or e["loc"]) + f": {e['msg']}"
                           for e in exc.errors(include_url=False, include_input=False))
        return f"outside the limits ({fields})"
    return None


def occurred_at_refusal(occurred_at: datetime, now: datetime) -> str | None:
    """Why an event's `occurred_at` is refused at `now` (more than a day ahead), or None."""
    if occurred_at > now + LATEST_AHEAD:
        return f"occurred_at {occurred_at.isoformat()} is more than a day in the future"
    return None


def clip(text: str | None, limit: int) -> str | None:
    """`text` cut to `limit` characters, marked with an ellipsis when cut."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def compact_log(state: CaseState) -> None:
    """Trim what grows with every event and nothing reads back: the timeline and the applied-event keys
    (each sender keeps its newest `APPLIED_KEPT_PER_SENDER`: no office can push another's keys out)."""
    if len(state.timeline) > TIMELINE_KEPT:
        dropped = len(state.timeline) - TIMELINE_KEPT
        state.timeline_trimmed += dropped
        del state.timeline[:dropped]
    if len(state.applied) > APPLIED_KEPT_PER_SENDER:
        per_sender: dict[str, int] = {}
        for key in reversed(list(state.applied)):
            sender = key.rsplit("|", 1)[0]
            per_sender[sender] = per_sender.get(sender, 0) + 1
            if per_sender[sender] > APPLIED_KEPT_PER_SENDER:
                mark = state.applied.pop(key)
                if "@" in mark:  # sealed at (epoch ms): `authority.stale` refuses what was sealed before
                    sealed = int(mark.rsplit("@", 1)[1])
                    state.applied_before[sender] = max(state.applied_before.get(sender, sealed), sealed)
    if len(state.applied_event_ids) > APPLIED_KEPT_PER_SENDER:  # applied before ids were kept per sender
        del state.applied_event_ids[: len(state.applied_event_ids) - APPLIED_KEPT_PER_SENDER]


def compact(state: CaseState) -> bool:
    """Keep only what the rules need (in place, idempotent); True if anything but the log was dropped.

    Rules v4: what has ended — clocks stopped or cancelled, referrals answered, closed manual tasks, the
    oldest breaches and escalations — is kept up to `ENDED_KEPT` of each, and deliveries once per office,
    purpose and fields. The history keeps all of it. Older runs keep theirs whole: their histories were
    written by code that read every one of them (a trimmed clock key would be reused, say)."""
    compact_log(state)
    if state.rules_version < 4:
        return False
    dropped = False
    ended = [k for k, c in state.clocks.items() if c.state in ("stopped", "cancelled")]
    for key in ended[: max(0, len(ended) - ENDED_KEPT)]:
        del state.clocks[key]
        dropped = True
    finished = [r for r in state.referrals.values() if r.status in ("completed", "declined", "cancelled", "failed")]
    for referral in finished[: max(0, len(finished) - ENDED_KEPT)]:
        if referral.office and referral.office not in state.notified_offices:
            state.notified_offices.append(referral.office)  # it received the case: still a party
        del state.referrals[referral.referral_id]
        dropped = True
    closed = [t for t in state.manual_tasks if t.closed_at is not None]
    if len(closed) > ENDED_KEPT:
        gone = {id(t) for t in closed[: len(closed) - ENDED_KEPT]}
        state.manual_tasks = [t for t in state.manual_tasks if id(t) not in gone]
        dropped = True
    for name in ("breaches", "escalations"):
        kept = getattr(state, name)
        if len(kept) > ENDED_KEPT:
            del kept[: len(kept) - ENDED_KEPT]
            dropped = True
    seen: set[tuple] = set()
    deliveries = []
    for d in state.deliveries:  # the first of each: the order offices were reached is kept
        key = (d.office, d.purpose, tuple(d.fields), d.mandated_by)
        if key not in seen:
            seen.add(key)
            deliveries.append(d)
    if len(deliveries) != len(state.deliveries):
        state.deliveries = deliveries
        dropped = True
    return dropped


def state_bytes(state: CaseState) -> int:
    """The size of the state as it would be carried across continue-as-new (JSON, before encryption)."""
    return len(state.model_dump_json())
