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
from datetime import datetime
from typing import TYPE_CHECKING

from sinergi.domain import limits
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


LEAD_SERVICES = ("screening", "child_protection")
# Events that close the case besides the decisions: the closing service's office may send them too.
CLOSERS = {"reintegration.completed": "family_reintegration", "repatriation.handed_over": "handover_to_mission"}
ANSWERING = ("sent", "acknowledged", "accepted")


def _lead_service(s: CaseState) -> str:
    # branch: child — UPTD PPA manages a child's case
    return "child_protection" if s.facts.child else "screening"


def lead_kind(s: CaseState) -> str:
    """The agency kind that leads the case: UPTD PPA for a child, else the one that took the intake."""
    return "uptd_ppa" if s.facts.child else s.facts.first_contact


def lead_office(s: CaseState) -> str | None:
    """The case's lead office (None: none now, operators decide).

    Rules v4 record it: the office its lead referral (the screening, or a child's UPTD PPA referral) went
    to, cleared when that office declines or rejects it, moved by a transfer (`FindLead`). Runs begun on
    older rules derive it: the office of their newest lead referral it did not decline or reject."""
    if s.lead_recorded:
        return s.lead_office
    for referral in reversed(list(s.referrals.values())):
        if referral.office and referral.service == _lead_service(s) and referral.status not in ("declined", "failed"):
            return referral.office
    return None


def routed(s: CaseState, referral) -> None:
    """A referral found its office: a lead referral's office leads the case (rules v4)."""
    if s.rules_version >= 4 and referral.office and referral.service == _lead_service(s) and not s.lead_pending:
        s.lead_office, s.lead_recorded = referral.office, True


def referral_ended(s: CaseState, referral) -> None:
    """The lead declined or rejected its lead referral: it no longer leads (rules v4); a re-routed
    referral's office will, once found."""
    if s.rules_version >= 4 and referral.service == _lead_service(s) and referral.office == s.lead_office:
        s.lead_office, s.lead_recorded = None, True


def moved(s: CaseState) -> None:
    """A transfer: the lead is looked for in the new place (`found_lead`); meanwhile operators decide."""
    s.lead_office, s.lead_recorded, s.lead_pending = None, True, True


def found_lead(s: CaseState, office: str | None) -> None:
    """The lead office after a transfer (None: no office of the lead kind covers the new place)."""
    s.lead_office, s.lead_recorded, s.lead_pending = office, True, False


def notified(s: CaseState, office: str) -> None:
    """An office received a notice of the case (or a referral the case no longer keeps, `limits.compact`):
    it takes part in it from then on."""
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


def _serving(s: CaseState, office: str, service: str, *, done: bool = False) -> bool:
    """Whether `office` holds this case's referral for `service`, open (the case asked it and waits) or,
    with `done`, completed by it (the service's own end: reintegration completed after its referral)."""
    statuses = (*ANSWERING, "completed") if done else ANSWERING
    return any(r.service == service and r.office == office and (r.status in statuses or
                                                                (r.status == "pending" and s.rules_version >= 3))
               for r in s.referrals.values())


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
    elif event.type in DECISIONS or event.type in CLOSERS:
        lead = lead_office(s)
        # The office asked to screen gives the screening outcome; the closing service's office its end.
        if event.type in CLOSERS:
            asked = _serving(s, office, CLOSERS[event.type], done=True)
        else:
            asked = event.type == "identification.screening_completed" and _serving(s, office, "screening")
        if office != lead and not asked:
            raise Refused("not_allowed", f"{event.type} is decided by the case's lead office ({lead or 'none now'}) "
                                         f"or an operator, not {office}")


def sending_office(sender: Sender | None) -> str:
    return sender.office if sender is not None else OPERATOR


def applied_key(sender: Sender | None, event_id: str) -> str:
    """The key an applied event is kept under: the sending office, and its event id hashed (bounded size)."""
    return f"{sending_office(sender)}|{hashlib.sha256(event_id.encode()).hexdigest()[:16]}"


def digest(event) -> str:
    """What makes two sends of one event id the same event: its type and data (not when it was sent)."""
    content = f"{event.type}\x1f{event.data.model_dump_json()}".encode()
    return hashlib.sha256(content).hexdigest()[:16]


def applied_mark(event, sent_at: datetime | None) -> str:
    """What `CaseState.applied` keeps of an applied event: its `digest`, and when it was sealed (`epoch_ms`)."""
    return digest(event) + (f"@{epoch_ms(sent_at)}" if sent_at is not None else "")


def epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def already_applied(s: CaseState, sender: Sender | None, event) -> bool | None:
    """True: this office's event was applied with this content; False: with other content; None: never."""
    known = s.applied.get(applied_key(sender, event.event_id))
    if known is not None:
        return known.split("@", 1)[0] == digest(event)
    if event.event_id in s.applied_event_ids:  # applied before ids were kept per office: content unknown
        return True
    return None


def stale(s: CaseState, sender: Sender | None, sent_at: datetime | None, now: datetime) -> str | None:
    """Why an event not applied yet is refused as a copy of a sealed one, or None.

    A sealed payload copied from a case's history and sent again by someone who holds no keys opens for that
    case. What the case still remembers answers as a duplicate. Beyond that:

    - it must carry its time of sealing (every sinergi since this check writes one), within
      `limits.SEALED_MAX_AGE` before the workflow's time and `limits.SEALED_MAX_AHEAD` after it: an old copy is
      refused whatever the case's state, even one an attacker rolled back, and a sealer's clock cannot run far
      ahead;
    - it must be sealed after every id the case forgot from that sender (`applied_before`, noted by
      `limits.compact_log`): a copy made within the window after a hundred newer events is refused too.
    """
    if sent_at is None:
        return "it carries no time of sealing (sent by an older sinergi): update the sender's sinergi"
    if sent_at < now - limits.SEALED_MAX_AGE:
        return (f"it was sealed at {sent_at.isoformat()}, more than {limits.SEALED_MAX_AGE.seconds // 60} minutes "
                "ago: a copy, or held too long; if it was not applied, send it again")
    if sent_at > now + limits.SEALED_MAX_AHEAD:
        return (f"it was sealed at {sent_at.isoformat()}, ahead of the case's time: check the clock of the "
                "machine that sealed it")
    before = s.applied_before.get(sending_office(sender))
    if before is not None and epoch_ms(sent_at) <= before:
        return (f"it was sealed at {sent_at.isoformat()}, before the oldest event the case still remembers from "
                f"{sending_office(sender)}: it cannot be told from one already applied; if it was not applied, "
                "send it again")
    return None
