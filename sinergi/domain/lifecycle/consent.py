"""consent.*: the victim's consent recorded (held referrals go out) or withdrawn (sharing stops at once; offices
that already have the data are told to restrict it; mandated police processes continue).

Each event's guard (is it accepted now?) and handler (what it changes) stand together, registered with
`@handles`; `sinergi.domain.lifecycle.dispatch` calls them.
"""

from __future__ import annotations

from datetime import datetime

from sinergi.domain import clocks, limits
from sinergi.domain.case import OPEN_REFERRAL, CaseState, Referral, Stage
from sinergi.domain.effects import Deliver, Effect, SendNotice, StopDelivery
from sinergi.domain.events import ConsentRecorded, ConsentWithdrawn
from sinergi.domain.lifecycle.helpers import handles, has_service, is_open, may_share, notice, refer
from sinergi.domain.policy import Policy

ART_26 = "UU 21/2007 Art. 26 (consent does not stop prosecution)"


@handles(ConsentRecorded, is_open)
def consent_recorded(s: CaseState, p: Policy, e: ConsentRecorded, now: datetime) -> list[Effect]:
    # branch: consent_withdrawn — re-contact: consent given again releases held referrals
    setattr(s.consent, e.data.scope, True)
    if e.data.agency in s.consent.withheld_from:
        s.consent.withheld_from.remove(e.data.agency)
    s.note(now, "consent", f"consent recorded: {e.data.scope}")
    effects: list[Effect] = []
    if e.data.scope == "services" and "consent_withdrawn" in s.pause_reasons:
        effects += clocks.resume(s, p, "consent_withdrawn", now)
    for referral in s.referrals.values():
        if referral.status == "held" and may_share(s, referral):
            referral.status = "pending"
            effects.append(Deliver(referral.referral_id))
    if e.data.scope == "legal" and s.stage != Stage.IDENTIFICATION and not has_service(s, "police_report"):
        effects += refer(s, "police_report", now)
    return effects


def _withheld_from_too_many(state: CaseState, e: ConsentWithdrawn) -> str | None:
    if (e.data.agency is not None and e.data.agency not in state.consent.withheld_from
            and len(state.consent.withheld_from) >= limits.ITEMS_MAX):
        # Limits: consent withheld from more offices than this is withdrawn for all (agency left out).
        return (f"consent is already withheld from {limits.ITEMS_MAX} offices or kinds: withdraw it for all "
                "instead (no agency)")
    return None


@handles(ConsentWithdrawn, is_open, _withheld_from_too_many)
def consent_withdrawn(s: CaseState, p: Policy, e: ConsentWithdrawn, now: datetime) -> list[Effect]:
    # branch: consent_withdrawn, legal_track — stop sharing; mandated police processes continue (Art. 26)
    scope, agency = e.data.scope, e.data.agency
    if agency is None:
        setattr(s.consent, scope, False)
    elif agency not in s.consent.withheld_from:
        s.consent.withheld_from.append(agency)  # later referrals to it stay held too
    s.note(now, "consent", f"consent withdrawn: {scope} for {agency}" if agency else f"consent withdrawn: {scope}")
    effects: list[Effect] = []
    if scope == "legal":
        s.note(now, "consent", f"legally mandated police processes continue ({ART_26})")
    if scope == "services" and agency is None:
        effects += clocks.pause(s, p, "consent_withdrawn", now)

    def affected(r: Referral) -> bool:
        if r.mandated_by or r.status not in OPEN_REFERRAL:
            return False
        if agency is not None:
            return agency in (r.office, r.kind)
        return scope != "legal" or r.service in ("police_report", "legal_aid")

    restricted: list[str] = []
    for referral in s.referrals.values():
        if not affected(referral):
            continue
        if referral.status in ("pending", "held"):
            referral.status = "held"
            effects.append(StopDelivery(referral.referral_id))
        else:
            referral.status = "cancelled"
            referral.reason = f"consent withdrawn ({scope})"
            clocks.cancel(s, lambda c, rid=referral.referral_id: c.context == rid, now, "consent withdrawn")
    # Every office that already received data is told to restrict its use, once.
    for office in dict.fromkeys(d.office for d in s.deliveries if not d.mandated_by):
        if agency is not None and office != agency and not any(
                r.office == office and r.kind == agency for r in s.referrals.values()):
            continue
        if scope == "legal" and not any(r.office == office and r.service in ("police_report", "legal_aid")
                                        for r in s.referrals.values()):
            continue
        restricted.append(office)
        effects.append(SendNotice(notice(
            s, "restriction", None, f"consent for {scope} withdrawn: stop processing and sharing this case's "
            "personal data except where the law requires it", office=office)))
    if restricted:
        s.note(now, "notice", f"restriction notices sent to {', '.join(restricted)}")
    return effects
