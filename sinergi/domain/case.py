"""The state of one case, as the workflow holds it and carries across continue-as-new.

Stored models are a wire protocol: fields are only ever added (with defaults), never renamed or removed.
Nothing here names the person: the intake itself travels beside the state, never inside status views.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sinergi.domain.effects import Notice
from sinergi.domain.intake import Intake
from sinergi.domain.limits import NOTE_MAX, clip
from sinergi.domain.policy import Policy, shared
from sinergi.domain.view_models import TimelineEntry  # a view's model, held in the state


class Stage(StrEnum):
    IDENTIFICATION = "identification"
    PROTECTION = "protection"
    REHABILITATION = "rehabilitation"
    REPATRIATION = "repatriation"
    REINTEGRATION = "reintegration"
    CLOSED = "closed"


ClockState = Literal["running", "stopped", "paused", "breached", "cancelled"]
ReferralStatus = Literal[
    "pending",  # created, not yet delivered
    "held",  # waiting for the victim's consent
    "sent", "acknowledged", "accepted", "declined", "completed",
    "failed",  # the agency refused it permanently
    "cancelled",  # its context closed (case closed, transferred, consent withdrawn)
]
OPEN_REFERRAL = frozenset({"pending", "held", "sent", "acknowledged", "accepted"})
CLOSED_REFERRAL = frozenset({"completed", "declined", "cancelled", "failed"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Facts(_Model):
    """What the rules branch on, derived once from the intake; coarse, never identifying."""

    child: bool
    female: bool = False
    abroad: bool
    foreign_national: bool
    pmi: bool = False
    sexual_exploitation: bool = False
    complaint: bool = False
    urgent_medical: bool = False
    first_contact: str = "uptd_ppa"  # the agency kind that took the intake and screens the person


class Consent(_Model):
    services: bool = False
    data_sharing: bool = False
    legal: bool = False
    # Offices or agency kinds the victim withdrew consent for (`consent.withdrawn` with `agency`).
    withheld_from: list[str] = Field(default_factory=list)


class Clock(_Model):
    key: str
    clock_id: str
    context: str | None = None
    started_at: datetime
    due_at: datetime
    state: ClockState = "running"
    paused_at: datetime | None = None
    ended_at: datetime | None = None
    breached_at: datetime | None = None
    responsible: str | None = None
    rungs_done: int = 0
    # Bumped whenever the due time moves, so a waiting timer knows to re-arm.
    generation: int = 0


class Referral(_Model):
    referral_id: str
    service: str
    kind: str
    kinds_tried: list[str] = Field(default_factory=list)
    office: str | None = None
    status: ReferralStatus = "pending"
    mandated_by: str | None = None
    returns_to_source: bool = False  # the first screening, back to the agency that took the intake
    created_at: datetime
    sent_at: datetime | None = None
    due_at: datetime | None = None
    reason: str | None = None
    last_error: str | None = None
    stage: str
    # When it reached completed, declined, cancelled or failed (stamped by the workflow as it publishes the
    # change): a referral-page link stays usable for 30 days after. None while open, and on older states.
    closed_at: datetime | None = None


class Breach(_Model):
    clock: str
    source: str
    at: datetime
    context: str | None = None
    kind: Literal["breach", "warning"] = "breach"


class Escalation(_Model):
    clock: str
    rung: int
    role: str
    agency: str
    level: str = "office"
    at: datetime
    reason: str
    source: str | None = None


class ManualTask(_Model):
    id: str
    agency: str
    reason: str
    opened_at: datetime
    closed_at: datetime | None = None
    referral_id: str | None = None


class Delivery(_Model):
    """Who received what about this victim, and when: the record UU 27/2022 accountability needs."""

    office: str
    purpose: str
    ref: str
    fields: list[str]
    at: datetime
    mandated_by: str | None = None


class CaseState(_Model):
    case_id: str
    province: str
    regency: str | None = None
    stage: Stage = Stage.IDENTIFICATION
    closed: bool = False
    closure_reason: str | None = None
    opened_at: datetime
    facts: Facts
    consent: Consent
    pause_reasons: list[str] = Field(default_factory=list)
    police_report: bool = False
    in_shelter: bool = False
    lpsk_pending: bool = False
    first_aid_pending: bool = False
    services: dict[str, Literal["requested", "started", "completed"]] = Field(default_factory=dict)
    return_unsafe: bool = False
    risk_assessed_safe: bool | None = None
    best_interest_ok: bool = False
    travel_document: bool = False
    departed: bool = False
    plan_agreed: bool = False
    followups_done: int = 0
    retrafficking_risk: bool = False
    legal_track_open: bool = False
    contact_attempts: int = 0
    referrals: dict[str, Referral] = Field(default_factory=dict)
    clocks: dict[str, Clock] = Field(default_factory=dict)
    breaches: list[Breach] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    manual_tasks: list[ManualTask] = Field(default_factory=list)
    deliveries: list[Delivery] = Field(default_factory=list)
    notified_offices: list[str] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    # Event ids applied before ids were kept per sending office (older runs): a duplicate whoever sends it.
    applied_event_ids: list[str] = Field(default_factory=list)
    # Events applied, newest last: `authority.applied_key` (sender and event id) -> `authority.digest` of
    # the content, so the same id from the same office is a duplicate and with other content a conflict.
    applied: dict[str, str] = Field(default_factory=dict)
    # Per sender: the newest time of sealing (epoch milliseconds) among the applied ids `limits.compact_log` trimmed.
    # An event sealed before it is refused (`authority.stale`). One number per sender: bounded.
    applied_before: dict[str, int] = Field(default_factory=dict)
    # Timeline entries dropped from the state (`limits.compact`); the history keeps them.
    timeline_trimmed: int = 0
    # The case manager (SPEC "Authority"), see `authority.lead_office`.
    lead_office: str | None = None
    lead_recorded: bool = False  # rules v4: `lead_office` says who leads (None: nobody now)
    lead_pending: bool = False  # a transfer's `FindLead` has not answered yet
    # Notices not yet confirmed delivered: re-sent after continue-as-new, so none is ever lost.
    outbox: list[Notice] = Field(default_factory=list)
    sequence: int = 0
    # The rules a case keeps are those in force when it opened: behaviour added later is gated on this
    # version, so running cases (and their histories) keep theirs — the pure-domain twin of workflow.patched.
    rules_version: int = 1

    @property
    def escalated(self) -> bool:
        return bool(self.escalations)

    @property
    def paused(self) -> bool:
        return bool(self.pause_reasons)

    def next_id(self, prefix: str) -> str:
        """A stable id within the case (referral and notice ids are idempotency keys: never random)."""
        self.sequence += 1
        return f"{self.case_id}-{prefix}{self.sequence:03d}"

    def note(self, at: datetime, kind: str, text: str, ref: str | None = None) -> None:
        self.timeline.append(TimelineEntry(at=at, kind=kind, text=clip(text, NOTE_MAX), ref=ref))  # type: ignore[arg-type] - kind is checked

    def agencies(self) -> list[str]:
        """Offices and kinds involved in the case, for the `CaseAgencies` search attribute."""
        out: list[str] = []
        for referral in self.referrals.values():
            for name in (referral.kind, referral.office):
                if name and name not in out:
                    out.append(name)
        return out


# 2: a screening outcome completes the screening referral
# 3: an office's answer to a referral whose delivery is not yet confirmed is accepted (it proves receipt)
# 4: a transfer moves the lead office to the new jurisdiction's office of the lead kind (`FindLead`)
RULES_VERSION = 4


class CaseInput(BaseModel):
    """The workflow's one input: the intake and policy at opening, or the whole state on continue-as-new."""

    case_id: str
    intake: Intake
    policy: Policy
    state: CaseState | None = None

    @field_validator("policy")
    @classmethod
    def _share_policy(cls, policy: Policy) -> Policy:
        return shared(policy)
