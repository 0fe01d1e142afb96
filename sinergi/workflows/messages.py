"""The models that cross the case workflow's boundary, and the names clients call it by."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio.common import SearchAttributeKey

from sinergi.domain.events import Event, Sender

APPLY_EVENT = "apply_event"
STATUS = "status"
TIMELINE = "timeline"
WHY = "why"
# Asked of a finished case (its update validator no longer runs) when an event arrives again.
APPLIED = "applied"

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
AUTHORITY_ERRORS = {"not_a_party": "NotAParty", "not_allowed": "NotAllowed"}


class CaseResult(BaseModel):
    case_id: str
    closure_reason: str | None
    stage: str


class EventRefusal(BaseModel):
    """Details of a refused event, carried in the update failure."""

    reason: str
    accepted: list[str]
