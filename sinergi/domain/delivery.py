"""What a delivery's outcome means for the case: sent, rejected, unreachable, or nowhere to send."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from sinergi.domain import authority, clocks, routing
from sinergi.domain.case import CaseState, Delivery
from sinergi.domain.effects import Effect, SendNotice
from sinergi.domain.lifecycle.helpers import escalate_referral, notice, open_manual_task, reroute
from sinergi.domain.policy import Policy


class DeliveryReceipt(BaseModel):
    """What the workflow keeps of a delivery: who got it and which fields, never the agency's whole reply."""

    office: str
    fields: list[str]
    delivered_at: datetime


def delivered(s: CaseState, policy: Policy, referral_id: str, receipt: DeliveryReceipt,
              now: datetime) -> list[Effect]:
    referral = s.referrals[referral_id]
    s.deliveries.append(Delivery(office=receipt.office, purpose=referral.service, ref=referral_id,
                                 fields=receipt.fields, at=receipt.delivered_at, mandated_by=referral.mandated_by))
    if referral.status == "completed":
        return []  # the case already had the agency's answer (e.g. a screening entered by an operator)
    if s.rules_version >= 3 and referral.status in ANSWERED:
        # The office answered before this call returned (rules v3): S3 already ran from its answer.
        _close_tasks(s, referral_id, receipt.office, now)
        return []
    if referral.status != "pending":
        # Held or cancelled while the call was in flight: the office has the data all the same, so it is
        # recorded, and told to restrict its use.
        s.note(now, "referral", f"{referral_id} reached {receipt.office} after it was {referral.status}", referral_id)
        return [SendNotice(notice(
            s, "restriction", None, f"referral {referral_id} was withdrawn ({referral.reason or referral.status}): "
            "do not act on it or keep its personal data", office=receipt.office))]
    referral.status = "sent"
    referral.office = receipt.office
    _close_tasks(s, referral_id, receipt.office, now)
    referral.sent_at = receipt.delivered_at
    referral.last_error = None
    s.note(now, "referral", f"{referral_id} delivered to {receipt.office} ({len(receipt.fields)} fields)",
           referral_id)
    # rule: S3
    return clocks.fire(s, policy, ["referral.sent"], [referral_id], now)


ANSWERED = ("sent", "acknowledged", "accepted", "declined")


def _close_tasks(s: CaseState, referral_id: str, office: str, now: datetime) -> None:
    for task in s.manual_tasks:
        # The office is reachable again: the phone-or-paper fallback opened while it was down is done.
        if task.referral_id == referral_id and task.closed_at is None:
            task.closed_at = now
            s.note(now, "task", f"manual task {task.id} closed: {referral_id} delivered to {office}", task.id)


def routed(s: CaseState, referral_id: str, office: str) -> None:
    referral = s.referrals[referral_id]
    referral.office = office
    authority.routed(s, referral)


def rejected(s: CaseState, referral_id: str, office: str, reason: str, now: datetime) -> list[Effect]:
    """The agency refused the referral permanently (a 4xx): fail visibly and escalate."""
    referral = s.referrals[referral_id]
    referral.status = "failed"
    referral.office = office
    authority.referral_ended(s, referral)
    referral.last_error = f"{office} rejected the referral: {reason}"
    clocks.cancel(s, lambda c: c.context == referral_id, now, "referral failed")
    task = open_manual_task(
        s, referral.kind, f"{routing.describe(referral.service)}: {referral.last_error}. Correct it with the "
        f"agency and refer again by phone or letter", now, referral_id)
    return escalate_referral(
        s, f"referral {referral_id} rejected by {office}: {reason}; manual task {task.id}", now)


def unreachable(s: CaseState, referral_id: str, office: str, error: str, now: datetime) -> list[Effect]:
    """Degraded mode: the office stayed unreachable past its agreed response time."""
    referral = s.referrals[referral_id]
    if s.rules_version >= 3 and referral.status in ANSWERED:
        return []  # the office answered: it is reachable, whatever its delivery call is doing
    referral.last_error = f"{office} unreachable: {error}"
    task = open_manual_task(
        s, office, f"{office}'s system is unreachable ({error}): deliver {routing.describe(referral.service)} "
        "by phone or paper; sinergi keeps retrying and will not send it twice", now, referral_id)
    return escalate_referral(
        s, f"{office} unreachable for referral {referral_id}; manual task {task.id}", now)


def unroutable(s: CaseState, referral_id: str, now: datetime) -> list[Effect]:
    """No office of the needed kind covers the case's jurisdiction: try the next kind, else a manual task."""
    referral = s.referrals[referral_id]
    referral.status = "failed"
    referral.last_error = f"no {referral.kind} office covers {s.province}/{s.regency or '-'}"
    return reroute(s, referral, referral.last_error, now)


def withdrawn_in_flight(s: CaseState, referral_id: str, office: str, now: datetime) -> list[Effect]:
    """A delivery cancelled while in flight may have reached the office: tell it to restrict the data."""
    referral = s.referrals[referral_id]
    if referral.status not in ("held", "cancelled"):
        return []  # done, not withdrawn: nothing to restrict
    s.note(now, "referral", f"{referral_id} withdrawn while being delivered to {office}: restriction notice sent",
           referral_id)
    return [SendNotice(notice(
        s, "restriction", None, f"referral {referral_id} was withdrawn ({referral.reason or referral.status}): if it "
        "reached you, do not act on it or keep its personal data", office=office))]
