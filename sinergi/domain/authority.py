"""Who may say what about a case (SPEC "Authority"), decided by the case itself in its validator.

- A **party** is an office the case sent a referral or a notice (any status), or its **lead office**: the
  office of the first-contact kind that the case's screening referral went to (UPTD PPA's office for a
  child); a transfer moves it. Covering the case's province or regency does not make an office a party.
- `referral.*` comes only from the office the referral was sent to.
- Case-level decisions (`DECISIONS`) come only from the lead office or an operator; the office asked to
  screen may also give the screening outcome, since that is its answer to the case's own referral.
- Any other event: from a party whose agreement (`may_send`) allows the type.
- Event ids are unique per sending office: the same `(office, event_id)` with the same content is a
  duplicate, with other content a conflict; no office can make another office's event a duplicate.

An operator's event (no sender) is not an office's: the CLI has already checked who the operator is.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sinergi.domain.case import CaseState
from sinergi.domain.events import INTERNAL_EVENT_TYPES

if TYPE_CHECKING:
    from sinergi.domain.events import Sender

DECISIONS = frozenset({
    "identification.screening_completed", "consent.recorded", "consent.withdrawn", "case.contact_lost",
    "case.victim_deceased", "case.transferred", "case.closed",
})
OPERATOR = "operator"  # the sending "office" of an operator's events, in applied keys


class Refused(Exception):
    """The sender may not send this event to this case: `code` is `not_a_party` or `not_allowed`."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def type_allowed(may_send: Iterable[str], event_type: str) -> bool:
    """Whether an agreement's `may_send` globs allow `event_type`."""
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in may_send)


def _is_lead_referral(s: CaseState, referral) -> bool:
    # branch: child — UPTD PPA manages a child's case
    if s.facts.child:
        return referral.service == "child_protection"
    return referral.returns_to_source


def lead_kind(s: CaseState) -> str:
    """The agency kind that leads the case: UPTD PPA for a child, else the one that took the intake."""
    return "uptd_ppa" if s.facts.child else s.facts.first_contact


def found_lead(s: CaseState, office: str | None) -> None:
    """The lead office after a transfer (None: no office of the lead kind covers the new place)."""
    s.lead_office = office


def lead_office(s: CaseState) -> str | None:
    """The case's lead office: recorded when found (None while a transfer looks for the new one), else
    (runs begun on older code) its lead referral's office."""
    if s.lead_office is not None or s.lead_moved:
        return s.lead_office
    for referral in reversed(list(s.referrals.values())):
        if referral.office and _is_lead_referral(s, referral):
            return referral.office
    return None


def routed(s: CaseState, referral) -> None:
    """A referral found its office: the lead referral's office leads the case (until a transfer)."""
    if referral.office and _is_lead_referral(s, referral) and s.lead_office is None and not s.lead_moved:
        s.lead_office = referral.office


def notified(s: CaseState, office: str) -> None:
    """An office received a notice of the case: it takes part in it from then on."""
    if office not in s.notified_offices:
        s.notified_offices.append(office)


def parties(s: CaseState) -> set[str]:
    """The offices that take part in the case."""
    offices = {r.office for r in s.referrals.values() if r.office}
    offices.update(s.notified_offices)
    lead = lead_office(s)
    if lead:
        offices.add(lead)
    return offices


def check(s: CaseState, event, sender: Sender | None) -> None:
    """Raise `Refused` unless `sender` may send `event` to this case now. Never changes the state."""
    if sender is None:
        return
    office = sender.office
    # Membership first: an office outside the case learns nothing more of it.
    if office not in parties(s):
        raise Refused("not_a_party", f"office {office} is not part of case {s.case_id}")
    if event.type in INTERNAL_EVENT_TYPES or (sender.may_send is not None and not type_allowed(sender.may_send,
                                                                                                  event.type)):
        raise Refused("not_allowed", f"office {office} may not send {event.type} events (its agreement)")
    if event.type.startswith("referral."):
        referral = s.referrals.get(event.data.referral_id)
        if referral is not None and referral.office != office:
            raise Refused("not_allowed", f"referral {referral.referral_id} was not sent to office {office}")
    elif event.type in DECISIONS and office != lead_office(s) and not _asked_to_screen(s, event, office):
        lead = lead_office(s)
        raise Refused("not_allowed", f"{event.type} is decided by the case's lead office "
                                     f"({lead or 'none yet'}) or an operator, not {office}")


def _asked_to_screen(s: CaseState, event, office: str) -> bool:
    return event.type == "identification.screening_completed" and any(
        r.service == "screening" and r.office == office and r.status not in ("cancelled", "failed")
        for r in s.referrals.values())


def sending_office(sender: Sender | None) -> str:
    return sender.office if sender is not None else OPERATOR


def applied_key(sender: Sender | None, event_id: str) -> str:
    """The key an applied event is kept under: its id, per sending office (hashed: bounded size)."""
    raw = f"{sending_office(sender)}\x1f{event_id}".encode()
    return hashlib.sha256(raw).hexdigest()[:24]


def digest(event) -> str:
    """What makes two sends of one event id the same event: its type and data (not when it was sent)."""
    content = f"{event.type}\x1f{event.data.model_dump_json()}".encode()
    return hashlib.sha256(content).hexdigest()[:16]


def already_applied(s: CaseState, sender: Sender | None, event) -> bool | None:
    """True: this office's event was applied with this content; False: with other content; None: never."""
    known = s.applied.get(applied_key(sender, event.event_id))
    if known is not None:
        return known == digest(event)
    if event.event_id in s.applied_event_ids:  # applied before ids were kept per office: content unknown
        return True
    return None
