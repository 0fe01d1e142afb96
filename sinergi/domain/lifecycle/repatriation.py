"""repatriation.*: the return home — risk assessment, a child's best interest, the travel document, departure,
arrival — or, for a foreign national, the hand-over to their own mission, which ends the case.

Each event's guard (is it accepted now?) and handler (what it changes) stand together, registered with
`@handles`; `sinergi.domain.lifecycle.dispatch` calls them.
"""

from __future__ import annotations

from datetime import datetime

from sinergi.domain.case import CaseState, Stage
from sinergi.domain.effects import Effect
from sinergi.domain.events import (
    ArrivedHome,
    ArrivedPortOfEntry,
    BestInterestDetermined,
    Departed,
    HandedOver,
    RiskAssessed,
    TravelDocumentIssued,
)
from sinergi.domain.lifecycle.helpers import (
    all_of,
    cancel_referrals,
    close,
    enter_reintegration,
    handles,
    in_stage,
    need,
)
from sinergi.domain.policy import Policy

ART_54_2 = "UU 21/2007 Art. 54(2)"
_REPATRIATION = in_stage(Stage.REPATRIATION)
_DEPARTED = need(lambda s: s.departed, "the victim has not departed")


@handles(RiskAssessed, _REPATRIATION)
def risk_assessed(s: CaseState, p: Policy, e: RiskAssessed, now: datetime) -> list[Effect]:
    # branch: unsafe_return
    s.risk_assessed_safe = e.data.safe
    if e.data.safe:
        return []
    # Return unsafe: do not return; protect locally (OSCE/ODIHR guiding principles on return, 2014).
    s.return_unsafe = True
    effects = cancel_referrals(s, p, now, "return assessed unsafe",
                               lambda r: r.stage == Stage.REPATRIATION)
    s.note(now, "stage", "return assessed unsafe: no return; local protection and integration")
    return effects + enter_reintegration(s, now)


@handles(BestInterestDetermined, all_of(_REPATRIATION, need(lambda s: s.facts.child, "the victim is not a child")))
def best_interest_determined(s: CaseState, p: Policy, e: BestInterestDetermined, now: datetime) -> list[Effect]:
    # branch: child
    s.best_interest_ok = e.data.caregiver_confirmed and e.data.return_in_best_interest
    if not s.best_interest_ok:
        s.note(now, "stage", "no confirmed caregiver or not in the child's best interest: the child does not return")
    return []


@handles(TravelDocumentIssued, _REPATRIATION)
def travel_document_issued(s: CaseState, p: Policy, e: TravelDocumentIssued, now: datetime) -> list[Effect]:
    s.travel_document = True
    return []


def _ready_to_depart(s: CaseState) -> str | None:
    # branch: child, abroad — return only when safe, with a caregiver (child) and a travel document (abroad)
    if s.risk_assessed_safe is not True:
        return "no safe risk assessment yet (repatriation.risk_assessed with safe=true first)"
    if s.facts.child and not s.best_interest_ok:
        return ("a child returns only with a confirmed caregiver and a best-interest decision "
                "(repatriation.best_interest_determined first)")
    if s.facts.abroad and not s.travel_document:
        return "no travel document yet (repatriation.travel_document_issued first)"
    return None


@handles(Departed, all_of(
    _REPATRIATION, need(lambda s: not s.facts.foreign_national,
                        "a foreign national is handed over (repatriation.handed_over)"),
    need(lambda s: not s.departed, "the victim has already departed"), _ready_to_depart))
def departed(s: CaseState, p: Policy, e: Departed, now: datetime) -> list[Effect]:
    s.departed = True
    return []


@handles(ArrivedPortOfEntry, all_of(_REPATRIATION, _DEPARTED))
def arrived_port_of_entry(s: CaseState, p: Policy, e: ArrivedPortOfEntry, now: datetime) -> list[Effect]:
    return []  # recorded in the timeline; the journey goes on to `arrived_home`


@handles(ArrivedHome, all_of(_REPATRIATION, _DEPARTED))
def arrived_home(s: CaseState, p: Policy, e: ArrivedHome, now: datetime) -> list[Effect]:
    s.regency = e.data.regency
    s.facts = s.facts.model_copy(update={"abroad": False})
    return enter_reintegration(s, now)


@handles(HandedOver, all_of(
    _REPATRIATION, need(lambda s: s.facts.foreign_national, "the victim is Indonesian"),
    need(lambda s: s.risk_assessed_safe is True,
         "no safe risk assessment yet (repatriation.risk_assessed with safe=true first)")))
def handed_over(s: CaseState, p: Policy, e: HandedOver, now: datetime) -> list[Effect]:
    # branch: foreign_national — the case ends at hand-over (UU 21/2007 Art. 54(2))
    return close(s, p, f"handed over to the victim's own mission ({ART_54_2})", now)
