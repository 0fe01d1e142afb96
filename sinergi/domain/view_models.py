"""The shapes a case shows to operators and agency systems (SPEC "JSON shapes"): `CaseStatus`, `CaseTimeline`,
`CaseWhy` and what they are made of. No personal data.

Models only, importing nothing of the domain: a client that asks a case a question (`sinergi case status`)
decodes the answer with these, without the lifecycle and the event models `sinergi.domain.views` builds them
from (bench/RESULTS.md §11). `sinergi.domain.views` re-exports every one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReferralView(BaseModel):
    referral_id: str
    agency: str
    kind: str
    service: str
    status: str
    due_at: datetime | None = None
    mandated_by: str | None = None
    last_error: str | None = None


class ClockView(BaseModel):
    id: str
    key: str
    context: str | None = None
    title: str
    kind: str
    source: str
    started_at: datetime
    due_at: datetime
    state: str


class BreachView(BaseModel):
    clock: str
    source: str
    at: datetime
    kind: str
    context: str | None = None


class EscalationView(BaseModel):
    clock: str
    rung: int
    agency: str
    at: datetime
    role: str
    reason: str
    source: str | None = None


class ManualTaskView(BaseModel):
    id: str
    agency: str
    reason: str
    opened_at: datetime
    referral_id: str | None = None


class ConsentView(BaseModel):
    services: bool
    data_sharing: bool
    legal: bool


class DeliveryView(BaseModel):
    office: str
    ref: str | None = None  # the referral or notice delivered
    purpose: str
    fields: list[str]
    at: datetime
    mandated_by: str | None = None


class CaseStatus(BaseModel):
    case_id: str
    stage: str
    closed: bool
    closure_reason: str | None
    province: str
    regency: str | None
    is_child: bool
    opened_at: datetime
    referrals: list[ReferralView]
    clocks: list[ClockView]
    breaches: list[BreachView]
    escalations: list[EscalationView]
    manual_tasks: list[ManualTaskView]
    consent: ConsentView
    flags: list[str] = Field(default_factory=list)
    deliveries: list[DeliveryView] = Field(default_factory=list)
    accepted_events: list[str] = Field(default_factory=list)


class TimelineEntry(BaseModel):
    # Held in the case's state too (`CaseState.timeline`, `sinergi.domain.case` re-exports it): a stored model,
    # fields only ever added. `extra="ignore"` as every model of the state.
    model_config = ConfigDict(extra="ignore")

    at: datetime
    kind: Literal["event", "stage", "referral", "clock", "breach", "escalation", "notice", "task", "consent"]
    text: str
    ref: str | None = None


class CaseTimeline(BaseModel):
    case_id: str
    entries: list[TimelineEntry]


class Deadline(BaseModel):
    clock: str
    title: str
    source: str
    kind: str
    due_at: datetime
    state: str
    responsible: str | None = None


class Waiting(BaseModel):
    """One thing the case waits on, as data: `CaseWhy.waiting_on` says it in English, the CLI in its operator's
    language. `on` is what waits: a referral (its office `who`, or an office of `kind` not chosen yet, its
    `status`), a clock (`who` owes one of `events`), or the deadlines themselves, paused for `reasons`."""

    on: Literal["referral", "clock", "paused"]
    who: str | None = None
    kind: str | None = None
    status: str | None = None
    referral_id: str | None = None
    service: str | None = None
    clock: str | None = None
    title: str | None = None
    context: str | None = None
    events: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)


class CaseWhy(BaseModel):
    """`case why`: what the case waits on, and why, in words an operator understands."""

    case_id: str
    stage: str
    closed: bool
    waiting_on: list[str]
    next_deadline: Deadline | None
    last_error: str | None
    open_manual_tasks: list[ManualTaskView]
    accepted_events: list[str]
    # Who decides for the case besides operators (SPEC "Authority"); None while none is known.
    lead_office: str | None = None
    # The case holds as much as it may (`limits.STATE_SOFT_MAX_BYTES`): only operators' events are taken.
    at_size_limit: bool = False
    # `waiting_on` as data (one item each, in the same order); empty from a case that ran older code.
    waiting: list[Waiting] = Field(default_factory=list)
