"""Effects: what the rules ask the workflow to do (start a clock, deliver or stop a referral, send a notice,
search for a lost victim, find a lead), and the notices activities carry to agencies. Notices never hold
personal data: they name the case, never the person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

NoticePurpose = Literal["escalation", "restriction", "contact_search", "breach"]


class Notice(BaseModel):
    """A message to an agency that is not a referral: an escalation, or a data-sharing restriction."""

    notice_id: str
    case_id: str
    purpose: NoticePurpose
    kind: str | None = None  # agency kind, routed by jurisdiction...
    office: str | None = None  # ...or a named office (restriction notices go to who received data)
    level: Literal["office", "regency", "province"] = "office"
    province: str
    regency: str | None = None
    text: str
    clock: str | None = None
    source: str | None = None
    rung: int | None = None


@dataclass(frozen=True)
class StartClock:
    key: str


@dataclass(frozen=True)
class Deliver:
    referral_id: str


@dataclass(frozen=True)
class StopDelivery:
    referral_id: str


@dataclass(frozen=True)
class SendNotice:
    notice: Notice


@dataclass(frozen=True)
class StartContactSearch:
    started_at: datetime


@dataclass(frozen=True)
class FindLead:
    """Find the office of agency kind `kind` for the case's (new) place: it leads the case from then on."""

    kind: str


Effect = StartClock | Deliver | StopDelivery | SendNotice | StartContactSearch | FindLead
