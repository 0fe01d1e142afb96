"""identification.*: the screening that decides whether the person is a presumed victim, and the police report.

Each event's guard (is it accepted now?) and handler (what it changes) stand together, registered with
`@handles`; `sinergi.domain.lifecycle.dispatch` calls them.
"""

from __future__ import annotations

from datetime import datetime

from sinergi.domain import clocks
from sinergi.domain.case import OPEN_REFERRAL, CaseState, Stage
from sinergi.domain.effects import Effect
from sinergi.domain.events import PoliceReportFiled, ScreeningCompleted
from sinergi.domain.lifecycle.helpers import close, enter, handles, has_service, in_stage, is_open, refer
from sinergi.domain.policy import Policy


@handles(ScreeningCompleted, in_stage(Stage.IDENTIFICATION))
def screening_completed(s: CaseState, p: Policy, e: ScreeningCompleted, now: datetime) -> list[Effect]:
    # rule: S1, S2
    outcome = e.data.outcome
    if outcome != "needs_more_info" and s.rules_version >= 2:
        # The outcome is the screening agency's answer: its referral is done, its deadlines with it.
        for referral in s.referrals.values():
            if referral.service == "screening" and referral.status in OPEN_REFERRAL:
                referral.status = "completed"
                clocks.cancel(s, lambda c, rid=referral.referral_id: c.context == rid, now, "screening completed")
    if outcome == "presumed_victim":
        effects = enter(s, Stage.PROTECTION, now)
        if s.consent.legal and not s.police_report and not has_service(s, "police_report"):
            effects += refer(s, "police_report", now)
        return effects
    if outcome == "not_victim":
        where = f" (referred to {e.data.referred_elsewhere})" if e.data.referred_elsewhere else ""
        return close(s, p, f"screening outcome: not a victim of trafficking{where}", now)
    s.note(now, "stage", "screening needs more information: deadline extended")
    return []


@handles(PoliceReportFiled, is_open)
def police_report_filed(s: CaseState, p: Policy, e: PoliceReportFiled, now: datetime) -> list[Effect]:
    # rule: T11, T12 — the report stops T11 and starts T12
    s.police_report = True
    return []
