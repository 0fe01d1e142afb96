"""reintegration.*: the reintegration plan, its follow-ups (a crisis re-opens protection), the victim's unpaid
rights, and the end of reintegration, which closes the case.

Each event's guard (is it accepted now?) and handler (what it changes) stand together, registered with
`@handles`; `sinergi.domain.lifecycle.dispatch` calls them.
"""

from __future__ import annotations

from datetime import datetime

from sinergi.domain import clocks
from sinergi.domain.case import CaseState, Stage
from sinergi.domain.effects import Effect
from sinergi.domain.events import FollowupCompleted, PlanAgreed, ReintegrationCompleted, RightsSettled
from sinergi.domain.lifecycle.helpers import all_of, close, enter, handles, in_stage, is_open, need
from sinergi.domain.policy import Policy

_REINTEGRATION = in_stage(Stage.REINTEGRATION)
_PLANNED = need(lambda s: s.plan_agreed, "no reintegration plan is agreed")


@handles(PlanAgreed, all_of(_REINTEGRATION, need(lambda s: not s.plan_agreed, "a plan is already agreed")))
def plan_agreed(s: CaseState, p: Policy, e: PlanAgreed, now: datetime) -> list[Effect]:
    # rule: T23
    s.plan_agreed = True
    return []


@handles(FollowupCompleted, all_of(_REINTEGRATION, _PLANNED))
def followup_completed(s: CaseState, p: Policy, e: FollowupCompleted, now: datetime) -> list[Effect]:
    # branch: crisis_reopens_protection; rule: T23, S2
    s.followups_done += 1
    if e.data.wellbeing == "at_risk":
        s.note(now, "stage", "follow-up: at risk (watch for re-trafficking)")
    if e.data.wellbeing != "crisis":
        return []
    s.retrafficking_risk = True
    s.plan_agreed = False
    clocks.cancel(s, lambda c: c.clock_id == "T23", now, "protection re-opened")
    return enter(s, Stage.PROTECTION, now, "crisis at follow-up: protection re-opened")  # refers to shelter


@handles(RightsSettled, is_open)
def rights_settled(s: CaseState, p: Policy, e: RightsSettled, now: datetime) -> list[Effect]:
    return []


@handles(ReintegrationCompleted, all_of(_REINTEGRATION, _PLANNED))
def reintegration_completed(s: CaseState, p: Policy, e: ReintegrationCompleted, now: datetime) -> list[Effect]:
    return close(s, p, "reintegration completed", now)
