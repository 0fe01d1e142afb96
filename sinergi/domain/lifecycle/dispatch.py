"""The dispatcher: opening a case, which events it accepts now, and applying one — the same steps for every
event, around the guard, refusal and handler its family module registered (`helpers.handles`).

Pure functions over `CaseState`: no Temporal, no I/O, no clock reading (`now` is passed in). The workflow
calls `check` from its update validator and `apply` from its handler, then carries out the effects returned.
"""

from __future__ import annotations

from datetime import datetime

from sinergi.domain import authority, clocks, limits
from sinergi.domain.case import RULES_VERSION, CaseInput, CaseState, Consent, Facts
from sinergi.domain.effects import Effect
from sinergi.domain.events import EVENT_TYPES, INTERNAL_EVENT_TYPES

# The family modules register their events with `handles` as they are imported.
from sinergi.domain.lifecycle import (  # noqa: F401 — imported for their registrations
    case_events,
    consent,
    identification,
    legal,
    protection,
    referrals,
    rehabilitation,
    reintegration,
    repatriation,
)
from sinergi.domain.lifecycle.helpers import HANDLING, Guard, refer
from sinergi.domain.lifecycle.referrals import ANSWERS, received_before_confirmed
from sinergi.domain.policy import Policy

ART_41_TPKS = "UU 12/2022 Art. 41"

# Each type's guard, in the order of the event vocabulary (the order `accepted_now` lists them in).
GUARDS: dict[str, Guard] = {t: HANDLING[t].guard for t in EVENT_TYPES if t in HANDLING}
assert set(GUARDS) == set(EVENT_TYPES) - INTERNAL_EVENT_TYPES, "every event type needs a guard"


class EventRefused(Exception):
    """The event does not fit the case's current state; nothing was changed."""

    def __init__(self, reason: str, accepted: list[str]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.accepted = accepted


def ended(state: CaseState) -> bool:
    """Whether the case has nothing left to do: closed, no legal track open and no clock live. Its run then
    ends and takes no more events, so it accepts none — not even the legal track's or a breach's, which a
    closed case whose run goes on (a legal track open, a T21 notice due) does accept."""
    # branch: legal_track, death; rule: T6, T21 — the workflow's `_finished` is this same test
    return state.closed and not state.legal_track_open and not any(c.state in clocks.LIVE
                                                                     for c in state.clocks.values())


def accepted_now(state: CaseState) -> list[str]:
    """Event types the case would accept now (data-specific checks aside): the one answer `case why`,
    `case status`, a refusal and the gateway's 409 all give."""
    if ended(state):
        return []
    return [t for t, guard in GUARDS.items() if guard(state) is None]


def check(state: CaseState, event) -> None:
    """Raise EventRefused if `event` does not fit the case now. Never changes the state."""
    if event.case_id != state.case_id:
        raise EventRefused(f"the event is for case {event.case_id}, not {state.case_id}", accepted_now(state))
    handling = HANDLING.get(event.type)
    reason: str | None
    if handling is None:
        reason = "this event type is recorded by sinergi itself"
    elif ended(state):
        # As `accepted_now` says. The validator calls this; validators do not run on replay, so no patch.
        reason = "the case is closed"
    else:
        reason = handling.guard(state) or (handling.refusal(state, event) if handling.refusal else None)
    if reason:
        raise EventRefused(f"{event.type} refused: {reason}", accepted_now(state))


def open_case(case: CaseInput, now: datetime, rules_version: int = RULES_VERSION) -> tuple[CaseState, list[Effect]]:
    """The state of a newly opened case, and what must happen at once (clocks, first referrals).

    `rules_version` is the version of these rules the case keeps for its whole life; the workflow decides
    it from history (a patch marker), so a replayed case gets the version it opened with.
    """
    intake = case.intake
    facts = Facts(
        child=intake.is_child, female=intake.person.sex == "F", abroad=intake.abroad,
        foreign_national=intake.foreign_national, pmi=intake.situation.is_pmi,
        # rule: T11, T12, T15 — the facts their clocks are conditioned on
        sexual_exploitation=intake.flags.sexual_exploitation, complaint=intake.source.channel == "complaint",
        urgent_medical=intake.flags.urgent_medical, first_contact=intake.source.agency,
    )
    state = CaseState(
        case_id=case.case_id, province=intake.province, regency=intake.regency, opened_at=now, facts=facts,
        consent=Consent(services=intake.consent.services, data_sharing=intake.consent.data_sharing,
                        legal=intake.consent.legal),
        rules_version=rules_version,
    )
    state.note(now, "event", f"case opened ({intake.source.agency}, {intake.source.channel})")
    # rule: S1, T11, T15 — the clocks that start at intake
    effects: list[Effect] = clocks.fire(state, case.policy, ["case.opened"], [None], now)
    effects += refer(state, "screening", now, returns_to_source=True)
    # branch: abroad — protection abroad starts with the mission (kbri)
    if facts.abroad:
        effects += refer(state, "protection_abroad", now)
    # branch: child — UPTD PPA is notified at once
    if facts.child:
        effects += refer(state, "child_protection", now)
    # branch: foreign_national
    if facts.foreign_national:
        effects += refer(state, "foreign_victim", now)
    # rule: T11
    if facts.sexual_exploitation:
        # The service unit must report a sexual-exploitation case to police: the law mandates it,
        # so it goes even without the victim's data-sharing consent, marked as mandated.
        effects += refer(state, "police_report", now, mandated_by=ART_41_TPKS)
    # rule: T2
    if facts.urgent_medical:
        state.first_aid_pending = True
        effects += clocks.fire(state, case.policy, ["rehabilitation.first_aid_requested"], [None], now)
        effects += refer(state, "urgent_first_aid", now)
    return state, effects


def apply(state: CaseState, policy: Policy, event, now: datetime, sender=None,
          entered_by: str | None = None, sent_at: datetime | None = None) -> list[Effect]:
    """Apply an accepted event (call `check` first) from `sender` (None: an operator), typed for it by
    `entered_by` (`operator:<name>`, `case event --as`) if given, sealed at `sent_at`. Returns the effects to
    carry out."""
    state.applied[authority.applied_key(sender, event.event_id)] = authority.applied_mark(event, sent_at)
    state.note(now, "event", _describe(event, entered_by), ref=event.event_id)
    triggers = [event.type]
    qualifier = getattr(event.data, "outcome", None) or getattr(event.data, "wellbeing", None) \
        or getattr(event.data, "decision", None)
    # rule: S1, S2, T17, T23 — outcome-qualified triggers (presumed_victim, needs_more_info, crisis)
    if qualifier:
        triggers.append(f"{event.type}:{qualifier}")
    contexts = _contexts(event)
    effects: list[Effect] = []
    if event.type in ANSWERS:
        effects += received_before_confirmed(state, policy, event, now)
    # The deadlines this event meets stop first: an event that also closes the case (screening
    # `not_victim`, hand-over) met them, it did not cancel them.
    clocks.stop_matching(state, policy, triggers, contexts, now)
    handling = HANDLING.get(event.type)
    effects += handling.handler(state, policy, event, now) if handling else []
    # rule: T6, T21; branch: legal_track — their clocks start even on a closed case
    if not (state.closed and event.type not in ("legal.judgment_final", "case.data_breach_discovered")):
        effects += clocks.start_matching(state, policy, triggers, contexts, now)
    limits.compact_log(state)
    return effects


def _describe(event, entered_by: str | None = None) -> str:
    data = event.data
    parts = [event.type]
    for name in ("outcome", "decision", "service", "wellbeing", "scope", "referral_id", "safe", "province"):
        if hasattr(data, name):
            parts.append(f"{name}={getattr(data, name)}")
    if event.source:
        parts.append(f"by {event.source}")
    if entered_by:
        parts.append(f"(entered by {entered_by})")
    return " ".join(parts)


def _contexts(event) -> list[str | None]:
    data = event.data
    if hasattr(data, "services"):
        return list(data.services)
    for name in ("service", "referral_id"):
        if hasattr(data, name):
            return [getattr(data, name)]
    return [None]
