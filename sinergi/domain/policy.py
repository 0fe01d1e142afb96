"""The policy: every clock of DOMAIN §4 with its legal source and escalation ladder.

A policy is loaded from TOML once, when a case opens, and travels inside the case's workflow input:
the rules in force when a case opened are the rules its clocks keep, whatever the file says later.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sinergi.domain.agency_kinds import AgencyKind
from sinergi.domain.durations import Duration, parse_seconds
from sinergi.domain.events import EVENT_TYPES

ClockKind = Literal["statutory", "operational"]
Tag = Literal["law", "practice", "benchmark", "default"]
# What a clock instance is "about": one per case, one per requested service, one per referral, or a
# series of follow-up visits.
ClockScope = Literal["case", "service", "referral", "followup"]
Responsible = AgencyKind | Literal["service", "referral"]

# Triggers sinergi fires itself besides event types (a referral delivered: `delivery.delivered`).
INTERNAL_TRIGGERS = ("referral.sent",)


def _qualifiers(event_type: str) -> list[str]:
    """The values `type:qualifier` triggers may name: an event's outcome, wellbeing or decision."""
    fields = EVENT_TYPES[event_type][1].model_fields
    return [value for name in ("outcome", "wellbeing", "decision") if name in fields
            for value in get_args(fields[name].annotation)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rung(_Strict):
    """One rung of an escalation ladder: who is told, and how long after the previous rung."""

    role: str = Field(min_length=1)
    agency: Responsible | Literal["responsible"]
    level: Literal["office", "regency", "province"] = "office"
    after: str = "0s"

    @field_validator("after")
    @classmethod
    def _after_is_a_duration(cls, value: str) -> str:
        parse_seconds(value)
        return value

    @property
    def after_seconds(self) -> int:
        return parse_seconds(self.after)


class ClockRule(_Strict):
    """A deadline or protected period: when it starts and stops, how long it runs, who is escalated to."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9]{0,7}$")
    title: str
    duration: str | list[str]
    starts_on: list[str] = Field(min_length=1)
    stops_on: list[str] = Field(default_factory=list)
    kind: ClockKind
    tag: Tag
    source: str = Field(min_length=1)
    scope: ClockScope = "case"
    responsible: Responsible | None = None
    when: Literal["sexual_exploitation", "complaint", "child", "abroad"] | None = None
    victim_dependent: bool = False
    period: bool = Field(default=False, description="a protected period: its end is not a breach")
    escalation: list[Rung] = Field(default_factory=list)

    @field_validator("starts_on", "stops_on")
    @classmethod
    def _known_triggers(cls, triggers: list[str]) -> list[str]:
        # A misspelt trigger would silently keep a clock from ever starting or stopping.
        for trigger in triggers:
            base, _, qualifier = trigger.partition(":")
            if base in INTERNAL_TRIGGERS and not qualifier:
                continue
            if base not in EVENT_TYPES:
                raise ValueError(f"{trigger!r} is not an event type (e.g. 'rehabilitation.request_filed')")
            if qualifier and qualifier not in _qualifiers(base):
                raise ValueError(f"{trigger!r}: expected {base}:<one of {_qualifiers(base)}>")
        return triggers

    @field_validator("duration")
    @classmethod
    def _durations_parse(cls, value: str | list[str]) -> str | list[str]:
        for text in [value] if isinstance(value, str) else value:
            Duration(text)
        return value

    @model_validator(mode="after")
    def _stops_unless_period(self) -> ClockRule:
        if not self.period and not self.stops_on:
            raise ValueError(f"clock {self.id}: stops_on is empty; only a period may run to its end")
        if isinstance(self.duration, list) and self.scope != "followup":
            raise ValueError(f"clock {self.id}: a list of durations needs scope = 'followup'")
        return self

    @property
    def durations(self) -> list[Duration]:
        return [Duration(t) for t in ([self.duration] if isinstance(self.duration, str) else self.duration)]

    @property
    def label(self) -> str:
        """`T1 UU 21/2007 Art. 52(1)`: how the clock is named to people."""
        return f"{self.id} {self.source}"


class ContactLostRule(_Strict):
    """How hard we try to find a victim we lost contact with before closing the case (DOMAIN §3)."""

    attempt_every: str = "72h"
    max_attempts: int = Field(default=3, ge=1)
    escalate_to: AgencyKind = "gugus_tugas"
    source: str = "IOM Handbook on Direct Assistance (2007); configurable default"

    @field_validator("attempt_every")
    @classmethod
    def _attempt_is_a_duration(cls, value: str) -> str:
        parse_seconds(value)
        return value

    @property
    def attempt_seconds(self) -> int:
        return parse_seconds(self.attempt_every)


class WorkingDays(_Strict):
    """What a `wd` duration counts: Monday to Friday in the case's province zone, except its days off.

    Days off are the national holidays (Keppres) and, with `joint_leave`, the cuti bersama the SKB of
    three ministers sets each year, as the `holidays` library publishes them for `calendar`, plus any
    `extra_days_off`. They are resolved to dates when the policy loads (`days_off`), so they travel in
    the case's input like every other rule: a later calendar never moves a clock already running.
    """

    calendar: str | None = Field(default="ID", description="a country code of the `holidays` library, or none")
    joint_leave: bool = Field(default=True, description="cuti bersama are days off too")
    extra_days_off: list[date] = Field(default_factory=list, description="e.g. a regional holiday")
    source: str = "Keppres on national holidays; SKB 3 Menteri on national holidays and cuti bersama (yearly)"
    days_off: list[date] = Field(default_factory=list, description="resolved when the policy loads")

    @property
    def summary(self) -> str:
        """What `wd` durations count, in one line for people (`sinergi policy show`)."""
        days = self.days_off
        if not days:
            return "working days (wd): Monday to Friday in the province's zone, weekends only"
        origin = (f"calendar {self.calendar}{', with cuti bersama' if self.joint_leave else ''}" if self.calendar
                  else "listed in the policy")
        return (f"working days (wd): Monday to Friday in the province's zone, except {len(days)} days off "
                f"{days[0].year}-{days[-1].year} ({origin}; {self.source})")


class Policy(_Strict):
    name: str
    clocks: list[ClockRule]
    contact_lost: ContactLostRule = Field(default_factory=ContactLostRule)
    # A case that opened before working days knew holidays has none here (an empty list): its clocks
    # keep counting as they did.
    working_days: WorkingDays = Field(default_factory=WorkingDays)

    @model_validator(mode="after")
    def _ids_are_unique(self) -> Policy:
        seen: set[str] = set()
        for clock in self.clocks:
            if clock.id in seen:
                raise ValueError(f"clock {clock.id} is defined twice")
            seen.add(clock.id)
        return self

    def clock(self, clock_id: str) -> ClockRule:
        for clock in self.clocks:
            if clock.id == clock_id:
                return clock
        raise KeyError(clock_id)


# Distinct policies seen by this process, by content. A worker holds hundreds of cases that all opened
# under the same few policies: each case keeps *its* policy (it travels in the workflow input), but equal
# policies share one frozen instance instead of one copy per case (~42 kB each, bench/RESULTS.md).
_SHARED: dict[str, Policy] = {}
_SHARED_MAX = 64


def shared(policy: Policy) -> Policy:
    """The process's one instance equal to `policy` (policies are frozen, so sharing cannot leak a change)."""
    key = policy.model_dump_json()
    found = _SHARED.get(key)
    if found is not None:
        return found
    if len(_SHARED) < _SHARED_MAX:  # a bound, should policies ever be generated: then each case keeps its own
        _SHARED[key] = policy
    return policy
