"""The names of the case workflow's wire vocabulary: its update, queries and activities, the type names of
the errors that cross its boundary, and its search attributes. Strings and keys only, no model: a client that
only asks a case a question (`sinergi case status`) imports this, not the event models of
`sinergi.workflows.messages`, which re-exports every name here (bench/RESULTS.md §11)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

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

# `ApplicationError.type` of each refusal by the case's authority (`sinergi.domain.authority.Refused.code`).
AUTHORITY_ERRORS = {"not_a_party": Errors.NOT_A_PARTY, "not_allowed": Errors.NOT_ALLOWED}
