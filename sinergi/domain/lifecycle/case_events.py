"""case.*: what concerns the case as a whole — contact with the victim lost and restored (and each failed
search attempt), the victim's death, a transfer to another jurisdiction, a data breach, an operator's closure.

Each event's guard (is it accepted now?) and handler (what it changes) stand together, registered with
`@handles`; `sinergi.domain.lifecycle.dispatch` calls them. `case.opened` is `dispatch.open_case`.
"""

from __future__ import annotations

from datetime import datetime

from sinergi.domain import authority, clocks
from sinergi.domain.case import OPEN_REFERRAL, CaseState, Escalation
from sinergi.domain.effects import Effect, FindLead, SendNotice, StartContactSearch, StopDelivery
from sinergi.domain.events import (
    CaseClosed,
    CaseTransferred,
    ContactLost,
    ContactRestored,
    DataBreachDiscovered,
    DataBreachNotified,
    VictimDeceased,
)
from sinergi.domain.lifecycle.helpers import all_of, close, handles, is_open, need, notice, refer
from sinergi.domain.policy import Policy


@handles(ContactLost, all_of(is_open, need(lambda s: "contact_lost" not in s.pause_reasons, "contact is already lost")))
def contact_lost(s: CaseState, p: Policy, e: ContactLost, now: datetime) -> list[Effect]:
    # branch: contact_lost
    s.contact_attempts = 0
    effects = clocks.pause(s, p, "contact_lost", now)
    _escalate_contact(s, p, 1, "regency", "contact with the victim lost", now)
    effects.append(SendNotice(notice(s, "contact_search", p.contact_lost.escalate_to,
                                     "contact with the victim lost: victim-dependent deadlines paused; "
                                     "please help re-establish contact", level="regency")))
    return effects + [StartContactSearch(now)]


@handles(ContactRestored, all_of(is_open, need(lambda s: "contact_lost" in s.pause_reasons, "contact was not lost")))
def contact_restored(s: CaseState, p: Policy, e: ContactRestored, now: datetime) -> list[Effect]:
    # branch: contact_lost
    return clocks.resume(s, p, "contact_lost", now)


def contact_attempt_failed(s: CaseState, p: Policy, now: datetime) -> list[Effect]:
    # branch: contact_lost
    """One search interval passed without contact: record it, escalate, and close after the last one."""
    s.contact_attempts += 1
    rule = p.contact_lost
    s.note(now, "escalation", f"contact attempt {s.contact_attempts} of {rule.max_attempts} failed")
    if s.contact_attempts >= rule.max_attempts:
        return close(s, p, f"contact lost after {rule.max_attempts} attempts ({rule.source})", now)
    _escalate_contact(s, p, s.contact_attempts + 1, "province",
                      f"contact attempt {s.contact_attempts} of {rule.max_attempts} failed", now)
    return [SendNotice(notice(s, "contact_search", rule.escalate_to,
                              f"contact attempt {s.contact_attempts} of {rule.max_attempts} failed",
                              level="province"))]


def _escalate_contact(s: CaseState, p: Policy, rung: int, level: str, reason: str, now: datetime) -> None:
    """Record the search for a lost victim as an escalation, so the case shows as escalated (status, search)."""
    s.escalations.append(Escalation(clock="contact_lost", rung=rung, role=f"{level} task force",
                                    agency=p.contact_lost.escalate_to, level=level, at=now, reason=reason,
                                    source=p.contact_lost.source))


@handles(VictimDeceased, is_open)
def victim_deceased(s: CaseState, p: Policy, e: VictimDeceased, now: datetime) -> list[Effect]:
    # branch: death, legal_track — assistance closes; heirs keep restitution rights
    if s.legal_track_open:
        s.note(now, "stage", "the legal track continues: heirs keep restitution rights")
    return close(s, p, "victim deceased", now)


def _already_there(state: CaseState, e: CaseTransferred) -> str | None:
    if (e.data.province, e.data.regency) == (state.province, state.regency):
        return f"the case is already in {e.data.province}/{e.data.regency or '-'}"
    return None


@handles(CaseTransferred, is_open, _already_there)
def case_transferred(s: CaseState, p: Policy, e: CaseTransferred, now: datetime) -> list[Effect]:
    # branch: transfer — referrals go to the new jurisdiction
    old = f"{s.province}/{s.regency or '-'}"
    s.province, s.regency = e.data.province, e.data.regency
    s.note(now, "stage", f"transferred from {old} to {s.province}/{s.regency or '-'}")
    effects: list[Effect] = []
    for referral in list(s.referrals.values()):
        if referral.status not in OPEN_REFERRAL:
            continue
        was_held = referral.status == "held"
        referral.status = "cancelled"
        referral.reason = "case transferred"
        effects.append(StopDelivery(referral.referral_id))
        clocks.cancel(s, lambda c, rid=referral.referral_id: c.context == rid, now, "case transferred")
        replacement = refer(s, referral.service, now, mandated_by=referral.mandated_by, kind=referral.kind)
        effects += [] if was_held and not replacement else replacement
    if s.rules_version >= 4:
        # The lead moves with the case: the new place's office of the lead kind, once found.
        authority.moved(s)
        effects.append(FindLead(authority.lead_kind(s)))
    return effects


@handles(DataBreachDiscovered, lambda s: None)  # accepted even on a closed case: T21 outlives it
def data_breach_discovered(s: CaseState, p: Policy, e: DataBreachDiscovered, now: datetime) -> list[Effect]:
    # rule: T21
    return []


def _breach_awaiting_notice(s: CaseState) -> str | None:
    # rule: T21
    live = any(c.clock_id == "T21" and c.state in clocks.LIVE for c in s.clocks.values())
    return None if live else "no data breach is awaiting notice"


@handles(DataBreachNotified, _breach_awaiting_notice)
def data_breach_notified(s: CaseState, p: Policy, e: DataBreachNotified, now: datetime) -> list[Effect]:
    return []  # it meets T21: the policy's `stops_on` stops the clock


@handles(CaseClosed, is_open)
def case_closed(s: CaseState, p: Policy, e: CaseClosed, now: datetime) -> list[Effect]:
    return close(s, p, e.data.reason, now)
