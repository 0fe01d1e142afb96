"""The wire vocabulary of the case workflow: every model that crosses its boundary (update, queries,
activities), the names they are called by, and the type names of the errors that cross with them.

The workflow, the activities and the client (`sinergi.cases`) all import it; it imports only the domain
models and `temporalio.common`, so the workflow's import closure stays free of I/O (a test walks it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from temporalio.common import SearchAttributeKey

from sinergi.domain.agencies import Office
from sinergi.domain.events import Event, Sender
from sinergi.domain.intake import Intake

APPLY_EVENT = "apply_event"
STATUS = "status"
TIMELINE = "timeline"
WHY = "why"
RECORD = "record"  # every fact the case's state holds, for `sinergi admin records backfill`
# Asked of a finished case (its update validator no longer runs) when an event arrives again.
APPLIED = "applied"
# The referral page (`sinergi.gateway.referral_page`): what an e-mail office may see, and each unlock recorded.
REFERRAL_PAGE = "referral_page"
RECORD_PAGE_UNLOCK = "record_page_unlock"

# The activities the case calls (`sinergi.activities.agencies.AgencyActivities`), by name: the workflow
# needs no import of the module that does the I/O.
DISPATCH_ACTIVITY = "agency_dispatch"
ROUTE_ACTIVITY = "route_referral"
DELIVER_REFERRAL_ACTIVITY = "deliver_referral"
DELIVER_NOTICE_ACTIVITY = "deliver_notice"
RECORD_FACTS_ACTIVITY = "record_facts"


class Errors:
    """`ApplicationError.type` of every failure that crosses the workflow's boundary."""

    # The update's refusals (sinergi.cases translates them into its CaseError tree).
    DUPLICATE_EVENT = "DuplicateEvent"
    EVENT_REFUSED = "EventRefused"
    EVENT_ID_REUSED = "EventIdReused"
    NOT_A_PARTY = "NotAParty"
    NOT_ALLOWED = "NotAllowed"
    # `record_page_unlock` refused: the referral is not this office's (or no longer in the case).
    PAGE_UNLOCK_REFUSED = "PageUnlockRefused"
    # An agency call's failures (sinergi.activities.agencies): permanent, retried, or a missing plugin.
    AGENCY_REJECTED = "AgencyRejected"
    AGENCY_UNAVAILABLE = "AgencyUnavailable"
    AGENCY_BUSY = "AgencyBusy"
    ADAPTER_MISSING = "AdapterMissing"

# Search attributes (SPEC "Temporal UI"): never personal data; they are not encrypted.
CASE_ID = SearchAttributeKey.for_keyword("CaseId")
CASE_STAGE = SearchAttributeKey.for_keyword("CaseStage")
CASE_PROVINCE = SearchAttributeKey.for_keyword("CaseProvince")
CASE_REGENCY = SearchAttributeKey.for_keyword("CaseRegency")
CASE_AGENCIES = SearchAttributeKey.for_keyword_list("CaseAgencies")
CASE_CHILD = SearchAttributeKey.for_bool("CaseChild")
CASE_ESCALATED = SearchAttributeKey.for_bool("CaseEscalated")
CASE_OPENED_AT = SearchAttributeKey.for_datetime("CaseOpenedAt")
SEARCH_ATTRIBUTES = (CASE_ID, CASE_STAGE, CASE_PROVINCE, CASE_REGENCY, CASE_AGENCIES, CASE_CHILD, CASE_ESCALATED,
                     CASE_OPENED_AT)


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


# `ApplicationError.type` of each refusal by the case's authority (`sinergi.domain.authority.Refused.code`).
AUTHORITY_ERRORS = {"not_a_party": Errors.NOT_A_PARTY, "not_allowed": Errors.NOT_ALLOWED}


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
