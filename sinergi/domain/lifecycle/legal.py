"""legal.*: the legal track — investigation, final judgment (T6: restitution due), restitution paid, proceedings
ended. It runs beside the assistance and may outlive the case: its events are accepted on a closed case.

Each event's guard (is it accepted now?) and handler (what it changes) stand together, registered with
`@handles`; `sinergi.domain.lifecycle.dispatch` calls them. Which clocks each event starts and stops is
the policy's `starts_on`/`stops_on` (T6 starts on `legal.judgment_final`, even on a closed case).
"""

from __future__ import annotations

from datetime import datetime

from sinergi.domain.case import CaseState
from sinergi.domain.effects import Effect
from sinergi.domain.events import InvestigationOpened, JudgmentFinal, ProceedingsEnded, RestitutionPaid
from sinergi.domain.lifecycle.helpers import handles, need
from sinergi.domain.policy import Policy


def _legal(s: CaseState) -> str | None:
    return None if s.legal_track_open else "no legal track is open (legal.investigation_opened first)"


@handles(InvestigationOpened, need(lambda s: not s.legal_track_open, "the legal track is already open"))
def investigation_opened(s: CaseState, p: Policy, e: InvestigationOpened, now: datetime) -> list[Effect]:
    # branch: legal_track
    s.legal_track_open = True
    return []


@handles(JudgmentFinal, _legal)
def judgment_final(s: CaseState, p: Policy, e: JudgmentFinal, now: datetime) -> list[Effect]:
    return []  # it starts T6 (restitution) through the policy; the track stays open until it ends


@handles(RestitutionPaid, _legal)
@handles(ProceedingsEnded, _legal)
def legal_track_ended(s: CaseState, p: Policy, e: RestitutionPaid | ProceedingsEnded, now: datetime) -> list[Effect]:
    # branch: legal_track; rule: T6
    s.legal_track_open = False
    return []
