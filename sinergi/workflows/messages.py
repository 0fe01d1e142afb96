"""The wire vocabulary of the case workflow: every model that crosses its boundary (update, queries,
activities), the names they are called by, and the type names of the errors that cross with them.

The workflow, the activities and the client (`sinergi.cases`) all import it; it imports only the domain
models and `temporalio.common`, so the workflow's import closure stays free of I/O (a test walks it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from sinergi.domain.agencies import Office
from sinergi.domain.events import Event, Sender
from sinergi.domain.intake import Intake

# The names (strings and keys), in a module of their own for clients that need no model.
from sinergi.workflows.names import (  # noqa: F401 - re-exported: `messages.STATUS` as ever
    APPLIED,
    APPLY_EVENT,
    AUTHORITY_ERRORS,
    CASE_AGENCIES,
    CASE_CHILD,
    CASE_ESCALATED,
    CASE_ID,
    CASE_OPENED_AT,
    CASE_PROVINCE,
    CASE_REGENCY,
    CASE_STAGE,
    DELIVER_NOTICE_ACTIVITY,
    DELIVER_REFERRAL_ACTIVITY,
    DISPATCH_ACTIVITY,
    RECORD,
    RECORD_FACTS_ACTIVITY,
    RECORD_PAGE_UNLOCK,
    REFERRAL_PAGE,
    ROUTE_ACTIVITY,
    SEARCH_ATTRIBUTES,
    STATUS,
    TIMELINE,
    WHY,
    Errors,
)


class EventOutcome(BaseModel):
    """SPEC: `case event --json` and the gateway's 202/200 body."""

    case_id: str
    event_id: str
    stage: str
    duplicate: bool


class AppliedQuestion(BaseModel):
    """`applied`: did the case apply this event, from this sender (None: an operator), with this content?"""

    event: Event
    sender: Sender | None = None


class CaseResult(BaseModel):
    case_id: str
    closure_reason: str | None
    stage: str


class EventRefusal(BaseModel):
    """Details of a refused event, carried in the update failure."""

    reason: str
    accepted: list[str]


# --- the referral page ------------------------------------------------------------------------


class ReferralPageQuestion(BaseModel):
    """`referral_page`: one referral as `office` may see it. The office's agreement comes with the question
    (the gateway's registry, as the delivery activity uses the worker's): the case keeps no registry."""

    referral_id: str
    office: Office


class ReferralPage(BaseModel):
    """What the referral page shows. `fields` is personal data: like every payload it crosses the boundary
    encrypted by the codec; it is empty unless the office may see the data now (`shareable`)."""

    case_id: str
    referral_id: str
    office: str
    service: str
    status: str
    due_at: datetime | None = None
    closed_at: datetime | None = None
    case_closed: bool = False
    # Consent allows sharing with this office now (`domain.sharing.may_share`); False after a withdrawal.
    consent_allows: bool = True
    # The referral is open and consent allows it: the page may show `fields`.
    shareable: bool = False
    fields: dict[str, Any] = Field(default_factory=dict)
    field_names: list[str] = Field(default_factory=list)


class PageUnlock(BaseModel):
    """`record_page_unlock`: `office` opened `referral_id` on the referral page at `at`, shown `fields`."""

    referral_id: str
    office: str
    fields: list[str]
    at: datetime


# --- activities ---------------------------------------------------------------------------------


class RouteRequest(BaseModel):
    kind: str
    province: str
    regency: str | None = None
    country: str | None = None
    level: str = "office"


class RouteResult(BaseModel):
    office: str | None = None
    office_name: str | None = None
    response_seconds: int = 86400


class DeliveryRequest(BaseModel):
    referral_id: str
    case_id: str
    office: str
    service: str
    stage: str
    due_by: datetime | None = None
    mandated_by: str | None = None
    intake: Intake  # personal data: encrypted in history by the payload codec


class Dispatch(BaseModel):
    """Where a case sends its agency calls, as this deployment is configured (asked once per run)."""

    per_kind_queues: bool


class NoticeReceipt(BaseModel):
    office: str | None
    delivered_at: datetime | None = None
    undeliverable: str | None = None


class RecordBatch(BaseModel):
    """Facts of one case for the case record (`sinergi.domain.record`), written each once."""

    case_id: str
    facts: list[dict[str, Any]]
