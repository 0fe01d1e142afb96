"""referral.*: an office's answers to a referral — acknowledged, accepted, declined (re-routed or escalated),
completed — and an answer that arrives before the office's delivery call has returned.

Each event's guard (is it accepted now?), data refusal (does it name one of this case's referrals, in the
right status, sent to the office answering?) and handler (what it changes) stand together, registered with
`@handles`; `sinergi.domain.lifecycle.dispatch` calls them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sinergi.domain import authority, clocks, limits
from sinergi.domain.case import CaseState
from sinergi.domain.effects import Effect
from sinergi.domain.events import ReferralAccepted, ReferralAcknowledged, ReferralCompleted, ReferralDeclined
from sinergi.domain.lifecycle.helpers import Guard, all_of, handles, in_flight, is_open, need, reroute
from sinergi.domain.policy import Policy

Answer = ReferralAcknowledged | ReferralAccepted | ReferralDeclined
ANSWERS = ("referral.acknowledged", "referral.accepted", "referral.declined")


def _referral_in(*statuses: str) -> Guard:
    return need(lambda s: any(r.status in statuses for r in s.referrals.values()),
                f"no referral of this case is {' or '.join(statuses)}")


def _referral_answerable(*statuses: str) -> Guard:
    # rule: S3 — an office's answer proves it received the referral, even before its delivery is
    # confirmed (rules v3: offices that answer at once were refused with 409 and retried)
    return need(lambda s: any(r.status in statuses or in_flight(s, r) for r in s.referrals.values()),
                f"no referral of this case is {' or '.join(statuses)}")


def _refusal(*allowed: str, early: bool = True) -> Callable[[CaseState, Answer | ReferralCompleted], str | None]:
    """The event's referral must be this case's, in one of `allowed` (or, for an answer, still in flight), and
    sent to the office answering (an operator may answer for any office)."""

    def refusal(state: CaseState, event: Answer | ReferralCompleted) -> str | None:
        data = event.data
        referral = state.referrals.get(data.referral_id)
        if referral is None:
            return f"no referral {data.referral_id} in this case"
        if referral.status not in allowed and not (early and in_flight(state, referral)):
            return f"referral {referral.referral_id} is {referral.status}, expected {' or '.join(allowed)}"
        if event.source and not event.source.startswith("operator:") and referral.office not in (None, event.source):
            return f"referral {referral.referral_id} was sent to {referral.office}, not {event.source}"
        return None

    return refusal


def received_before_confirmed(s: CaseState, p: Policy, e: Answer, now: datetime) -> list[Effect]:
    """The office answered while its delivery was still being confirmed: it has the referral. The delivery
    itself is recorded (fields, time) when its call returns (`delivery.delivered`)."""
    referral = s.referrals[e.data.referral_id]
    if not in_flight(s, referral):
        return []
    referral.status = "sent"
    referral.sent_at = now
    s.note(now, "referral", f"{referral.referral_id} answered by {referral.office} before its delivery was confirmed",
           referral.referral_id)
    # rule: S3
    return clocks.fire(s, p, ["referral.sent"], [referral.referral_id], now)


@handles(ReferralAcknowledged, all_of(is_open, _referral_answerable("sent")), _refusal("sent"))
def referral_acknowledged(s: CaseState, p: Policy, e: ReferralAcknowledged, now: datetime) -> list[Effect]:
    # rule: S3, S4 — acknowledged stops S3 and starts S4
    s.referrals[e.data.referral_id].status = "acknowledged"
    return []


@handles(ReferralAccepted, all_of(is_open, _referral_answerable("sent", "acknowledged")),
         _refusal("sent", "acknowledged"))
def referral_accepted(s: CaseState, p: Policy, e: ReferralAccepted, now: datetime) -> list[Effect]:
    # rule: S3, S4
    s.referrals[e.data.referral_id].status = "accepted"
    return []


@handles(ReferralDeclined, all_of(is_open, _referral_answerable("sent", "acknowledged")),
         _refusal("sent", "acknowledged"))
def referral_declined(s: CaseState, p: Policy, e: ReferralDeclined, now: datetime) -> list[Effect]:
    referral = s.referrals[e.data.referral_id]
    referral.status = "declined"
    referral.reason = limits.clip(e.data.reason, limits.REASON_MAX)
    authority.referral_ended(s, referral)
    clocks.cancel(s, lambda c: c.context == referral.referral_id, now, "referral declined")
    return reroute(s, referral, f"declined by {referral.office}: {e.data.reason or 'no reason given'}", now)


@handles(ReferralCompleted, all_of(is_open, _referral_in("accepted")), _refusal("accepted", early=False))
def referral_completed(s: CaseState, p: Policy, e: ReferralCompleted, now: datetime) -> list[Effect]:
    s.referrals[e.data.referral_id].status = "completed"
    clocks.cancel(s, lambda c: c.context == e.data.referral_id, now, "referral completed")
    return []
