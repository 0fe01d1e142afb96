"""protection.*: shelter, police protection, the LPSK (witness and victim protection agency) application, and
the safe placement that moves the case to rehabilitation.

Each event's guard (is it accepted now?) and handler (what it changes) stand together, registered with
`@handles`; `sinergi.domain.lifecycle.dispatch` calls them.
"""

from __future__ import annotations

from datetime import datetime

from sinergi.domain.case import CaseState, Stage
from sinergi.domain.effects import Effect
from sinergi.domain.events import (
    LpskApplicationFiled,
    LpskDecision,
    PoliceProtectionGranted,
    SafePlacementConfirmed,
    ShelterAdmitted,
    ShelterDischarged,
)
from sinergi.domain.lifecycle.helpers import (
    ASSISTANCE_STAGES,
    all_of,
    enter,
    handles,
    has_service,
    in_stage,
    is_open,
    need,
    refer,
)
from sinergi.domain.policy import Policy


@handles(ShelterAdmitted, is_open)
def shelter_admitted(s: CaseState, p: Policy, e: ShelterAdmitted, now: datetime) -> list[Effect]:
    s.in_shelter = True
    return []


@handles(ShelterDischarged, all_of(is_open, need(lambda s: s.in_shelter, "the victim is not in a shelter")))
def shelter_discharged(s: CaseState, p: Policy, e: ShelterDischarged, now: datetime) -> list[Effect]:
    s.in_shelter = False
    return []


@handles(PoliceProtectionGranted, all_of(is_open, need(lambda s: s.police_report, "no police report has been filed")))
def police_protection_granted(s: CaseState, p: Policy, e: PoliceProtectionGranted, now: datetime) -> list[Effect]:
    return []  # it meets T12: the policy's `stops_on` stops the clock


@handles(LpskApplicationFiled, all_of(in_stage(*ASSISTANCE_STAGES),
                                      need(lambda s: not s.lpsk_pending, "an LPSK application is already pending")))
def lpsk_application_filed(s: CaseState, p: Policy, e: LpskApplicationFiled, now: datetime) -> list[Effect]:
    # rule: T3, T4
    s.lpsk_pending = True
    return []


@handles(LpskDecision, all_of(is_open, need(lambda s: s.lpsk_pending, "no LPSK application is pending")))
def lpsk_decision(s: CaseState, p: Policy, e: LpskDecision, now: datetime) -> list[Effect]:
    # rule: T3, T4
    s.lpsk_pending = False
    return []


@handles(SafePlacementConfirmed, in_stage(Stage.PROTECTION))
def safe_placement_confirmed(s: CaseState, p: Policy, e: SafePlacementConfirmed, now: datetime) -> list[Effect]:
    effects = enter(s, Stage.REHABILITATION, now)
    if s.consent.legal and not has_service(s, "legal_aid"):
        effects += refer(s, "legal_aid", now)
    return effects
