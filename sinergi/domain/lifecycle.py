"""The lifecycle rules of DOMAIN §3: which events a case accepts now, and what each one changes.

Pure functions over `CaseState`: no Temporal, no I/O, no clock reading (`now` is passed in). The
workflow calls `check` from its update validator and `apply` from its handler, then carries out the
effects returned (timers, deliveries, notices). Keeping the rules here lets them be tested with plain
constructors and keeps the workflow to orchestration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sinergi.domain import authority, clocks, limits, routing, sharing
from sinergi.domain.case import (
    OPEN_REFERRAL,
    RULES_VERSION,
    CaseInput,
    CaseState,
    Consent,
    Escalation,
    Facts,
    ManualTask,
    Referral,
    Stage,
)
from sinergi.domain.events import EVENT_TYPES, INTERNAL_EVENT_TYPES
from sinergi.domain.notices import Deliver, Effect, FindLead, Notice, SendNotice, StartContactSearch, StopDelivery
from sinergi.domain.policy import Policy

ART_26 = "UU 21/2007 Art. 26 (consent does not stop prosecution)"
ART_41_TPKS = "UU 12/2022 Art. 41"
ART_54_2 = "UU 21/2007 Art. 54(2)"

ASSISTANCE_STAGES = (Stage.PROTECTION, Stage.REHABILITATION, Stage.REPATRIATION, Stage.REINTEGRATION)


class EventRefused(Exception):
    """The event does not fit the case's current state; nothing was changed."""

    def __init__(self, reason: str, accepted: list[str]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.accepted = accepted


# --- what is accepted now -------------------------------------------------------------------------

Guard = Callable[[CaseState], str | None]


def _open(s: CaseState) -> str | None:
    return "the case is closed" if s.closed else None


def _stage(*stages: Stage) -> Guard:
    names = " or ".join(str(st) for st in stages)

    def guard(s: CaseState) -> str | None:
        return _open(s) or (None if s.stage in stages else f"the case is in {s.stage}, not {names}")

    return guard


def _all(*guards: Guard) -> Guard:
    def guard(s: CaseState) -> str | None:
        for g in guards:
            if reason := g(s):
                return reason
        return None

    return guard


def _need(test: Callable[[CaseState], bool], reason: str) -> Guard:
    return lambda s: None if test(s) else reason


def _legal(s: CaseState) -> str | None:
    return None if s.legal_track_open else "no legal track is open (legal.investigation_opened first)"


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


def _referral_in(*statuses: str) -> Guard:
    return _need(lambda s: any(r.status in statuses for r in s.referrals.values()),
                 f"no referral of this case is {' or '.join(statuses)}")


def in_flight(s: CaseState, referral) -> bool:
    """Routed to an office whose delivery has not been confirmed yet (the call may still be under way)."""
    return s.rules_version >= 3 and referral.status == "pending" and referral.office is not None


def _referral_answerable(*statuses: str) -> Guard:
    # rule: S3 — an office's answer proves it received the referral, even before its delivery is
    # confirmed (rules v3: offices that answer at once were refused with 409 and retried)
    return _need(lambda s: any(r.status in statuses or in_flight(s, r) for r in s.referrals.values()),
                 f"no referral of this case is {' or '.join(statuses)}")


GUARDS: dict[str, Guard] = {
    "identification.screening_completed": _stage(Stage.IDENTIFICATION),
    "identification.police_report_filed": _open,
    "protection.shelter_admitted": _open,
    "protection.shelter_discharged": _all(_open, _need(lambda s: s.in_shelter, "the victim is not in a shelter")),
    "protection.police_protection_granted": _all(
        _open, _need(lambda s: s.police_report, "no police report has been filed")),
    "protection.lpsk_application_filed": _all(
        _stage(*ASSISTANCE_STAGES), _need(lambda s: not s.lpsk_pending, "an LPSK application is already pending")),
    "protection.lpsk_decision": _all(_open, _need(lambda s: s.lpsk_pending, "no LPSK application is pending")),
    "protection.safe_placement_confirmed": _stage(Stage.PROTECTION),
    # rule: T1 — the Art. 51 request needs a police report first (UU 21/2007 Art. 51)
    "rehabilitation.request_filed": _all(
        _stage(*ASSISTANCE_STAGES),
        _need(lambda s: s.police_report,
              "an Art. 51 request needs a police report first (identification.police_report_filed)")),
    "rehabilitation.first_aid_requested": _all(
        _open, _need(lambda s: not s.first_aid_pending, "first aid is already requested")),
    "rehabilitation.first_aid_provided": _all(
        _open, _need(lambda s: s.first_aid_pending, "no first aid was requested")),
    "rehabilitation.service_started": _all(
        _open, _need(lambda s: "requested" in s.services.values(), "no requested service is waiting to start")),
    "rehabilitation.service_completed": _all(
        _open, _need(lambda s: "started" in s.services.values(), "no service has started")),
    "rehabilitation.completed": _stage(Stage.REHABILITATION),
    "repatriation.risk_assessed": _stage(Stage.REPATRIATION),
    "repatriation.best_interest_determined": _all(
        _stage(Stage.REPATRIATION), _need(lambda s: s.facts.child, "the victim is not a child")),
    "repatriation.travel_document_issued": _stage(Stage.REPATRIATION),
    "repatriation.departed": _all(
        _stage(Stage.REPATRIATION), _need(lambda s: not s.facts.foreign_national,
                                          "a foreign national is handed over (repatriation.handed_over)"),
        _need(lambda s: not s.departed, "the victim has already departed"), _ready_to_depart),
    "repatriation.arrived_port_of_entry": _all(
        _stage(Stage.REPATRIATION), _need(lambda s: s.departed, "the victim has not departed")),
    "repatriation.arrived_home": _all(
        _stage(Stage.REPATRIATION), _need(lambda s: s.departed, "the victim has not departed")),
    "repatriation.handed_over": _all(
        _stage(Stage.REPATRIATION), _need(lambda s: s.facts.foreign_national, "the victim is Indonesian"),
        _need(lambda s: s.risk_assessed_safe is True,
              "no safe risk assessment yet (repatriation.risk_assessed with safe=true first)")),
    "reintegration.plan_agreed": _all(
        _stage(Stage.REINTEGRATION), _need(lambda s: not s.plan_agreed, "a plan is already agreed")),
    "reintegration.followup_completed": _all(
        _stage(Stage.REINTEGRATION), _need(lambda s: s.plan_agreed, "no reintegration plan is agreed")),
    "reintegration.rights_settled": _open,
    "reintegration.completed": _all(
        _stage(Stage.REINTEGRATION), _need(lambda s: s.plan_agreed, "no reintegration plan is agreed")),
    "referral.acknowledged": _all(_open, _referral_answerable("sent")),
    "referral.accepted": _all(_open, _referral_answerable("sent", "acknowledged")),
    "referral.declined": _all(_open, _referral_answerable("sent", "acknowledged")),
    "referral.completed": _all(_open, _referral_in("accepted")),
    "consent.recorded": _open,
    "consent.withdrawn": _open,
    "case.contact_lost": _all(_open, _need(lambda s: "contact_lost" not in s.pause_reasons,
                                           "contact is already lost")),
    "case.contact_restored": _all(_open, _need(lambda s: "contact_lost" in s.pause_reasons,
                                               "contact was not lost")),
    "case.victim_deceased": _open,
    "case.transferred": _open,
    "case.data_breach_discovered": lambda s: None,
    # rule: T21
    "case.data_breach_notified": _need(lambda s: any(c.clock_id == "T21" and c.state in clocks.LIVE
                                                     for c in s.clocks.values()),
                                       "no data breach is awaiting notice"),
    "case.closed": _open,
    "legal.investigation_opened": _need(lambda s: not s.legal_track_open, "the legal track is already open"),
    "legal.judgment_final": _legal,
    "legal.restitution_paid": _legal,
    "legal.proceedings_ended": _legal,
}
assert set(GUARDS) == set(EVENT_TYPES) - INTERNAL_EVENT_TYPES, "every event type needs a guard"


def accepted_now(state: CaseState) -> list[str]:
    """Event types the case would accept now (data-specific checks aside)."""
    return [t for t, guard in GUARDS.items() if guard(state) is None]


def check(state: CaseState, event) -> None:
    """Raise EventRefused if `event` does not fit the case now. Never changes the state."""
    if event.case_id != state.case_id:
        raise EventRefused(f"the event is for case {event.case_id}, not {state.case_id}", accepted_now(state))
    guard = GUARDS.get(event.type)
    reason = "this event type is recorded by sinergi itself" if guard is None else guard(state)
    reason = reason or _data_refusal(state, event)
    if reason:
        raise EventRefused(f"{event.type} refused: {reason}", accepted_now(state))


def _data_refusal(state: CaseState, event) -> str | None:
    data = event.data
    if event.type.startswith("referral."):
        referral = state.referrals.get(data.referral_id)
        if referral is None:
            return f"no referral {data.referral_id} in this case"
        allowed = {"referral.acknowledged": ("sent",), "referral.accepted": ("sent", "acknowledged"),
                   "referral.declined": ("sent", "acknowledged"), "referral.completed": ("accepted",)}[event.type]
        early = event.type != "referral.completed" and in_flight(state, referral)
        if referral.status not in allowed and not early:
            return f"referral {referral.referral_id} is {referral.status}, expected {' or '.join(allowed)}"
        if event.source and not event.source.startswith("operator:") and referral.office not in (None, event.source):
            return f"referral {referral.referral_id} was sent to {referral.office}, not {event.source}"
    elif event.type == "rehabilitation.request_filed":
        again = [svc for svc in data.services if svc in state.services]
        if again:
            return f"already requested: {', '.join(again)}"
    elif event.type == "rehabilitation.service_started" and state.services.get(data.service) != "requested":
        return f"service {data.service} is {state.services.get(data.service, 'not requested')}"
    elif event.type == "rehabilitation.service_completed" and state.services.get(data.service) != "started":
        return f"service {data.service} is {state.services.get(data.service, 'not requested')}, not started"
    elif (event.type == "consent.withdrawn" and data.agency is not None and data.agency not in
          state.consent.withheld_from and len(state.consent.withheld_from) >= limits.ITEMS_MAX):
        # Limits: consent withheld from more offices than this is withdrawn for all (agency left out).
        return (f"consent is already withheld from {limits.ITEMS_MAX} offices or kinds: withdraw it for all "
                "instead (no agency)")
    elif event.type == "case.transferred" and (data.province, data.regency) == (state.province, state.regency):
        return f"the case is already in {data.province}/{data.regency or '-'}"
    return None


# --- opening and applying -------------------------------------------------------------------------


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
    effects += _refer(state, "screening", now, returns_to_source=True)
    # branch: abroad — protection abroad starts with the mission (kbri)
    if facts.abroad:
        effects += _refer(state, "protection_abroad", now)
    # branch: child — UPTD PPA is notified at once
    if facts.child:
        effects += _refer(state, "child_protection", now)
    # branch: foreign_national
    if facts.foreign_national:
        effects += _refer(state, "foreign_victim", now)
    # rule: T11
    if facts.sexual_exploitation:
        # The service unit must report a sexual-exploitation case to police: the law mandates it,
        # so it goes even without the victim's data-sharing consent, marked as mandated.
        effects += _refer(state, "police_report", now, mandated_by=ART_41_TPKS)
    # rule: T2
    if facts.urgent_medical:
        state.first_aid_pending = True
        effects += clocks.fire(state, case.policy, ["rehabilitation.first_aid_requested"], [None], now)
        effects += _refer(state, "urgent_first_aid", now)
    return state, effects


def apply(state: CaseState, policy: Policy, event, now: datetime, sender=None) -> list[Effect]:
    """Apply an accepted event (call `check` first) from `sender` (None: an operator). Returns the effects
    to carry out."""
    state.applied[authority.applied_key(sender, event.event_id)] = authority.digest(event)
    state.note(now, "event", _describe(event), ref=event.event_id)
    triggers = [event.type]
    qualifier = getattr(event.data, "outcome", None) or getattr(event.data, "wellbeing", None) \
        or getattr(event.data, "decision", None)
    # rule: S1, S2, T17, T23 — outcome-qualified triggers (presumed_victim, needs_more_info, crisis)
    if qualifier:
        triggers.append(f"{event.type}:{qualifier}")
    contexts = _contexts(event)
    effects: list[Effect] = []
    if event.type in ANSWERS:
        effects += _received_before_confirmed(state, policy, event, now)
    # The deadlines this event meets stop first: an event that also closes the case (screening
    # `not_victim`, hand-over) met them, it did not cancel them.
    clocks.stop_matching(state, policy, triggers, contexts, now)
    handler = _HANDLERS.get(event.type)
    effects += handler(state, policy, event, now) if handler else []
    # rule: T6, T21; branch: legal_track — their clocks start even on a closed case
    if not (state.closed and event.type not in ("legal.judgment_final", "case.data_breach_discovered")):
        effects += clocks.start_matching(state, policy, triggers, contexts, now)
    limits.compact_log(state)
    return effects


def _describe(event) -> str:
    data = event.data
    parts = [event.type]
    for name in ("outcome", "decision", "service", "wellbeing", "scope", "referral_id", "safe", "province"):
        if hasattr(data, name):
            parts.append(f"{name}={getattr(data, name)}")
    if event.source:
        parts.append(f"by {event.source}")
    return " ".join(parts)


def _contexts(event) -> list[str | None]:
    data = event.data
    if hasattr(data, "services"):
        return list(data.services)
    for name in ("service", "referral_id"):
        if hasattr(data, name):
            return [getattr(data, name)]
    return [None]


# --- handlers -------------------------------------------------------------------------------------


def _screening(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: S1, S2
    outcome = e.data.outcome
    if outcome != "needs_more_info" and s.rules_version >= 2:
        # The outcome is the screening agency's answer: its referral is done, its deadlines with it.
        for referral in s.referrals.values():
            if referral.service == "screening" and referral.status in OPEN_REFERRAL:
                referral.status = "completed"
                clocks.cancel(s, lambda c, rid=referral.referral_id: c.context == rid, now, "screening completed")
    if outcome == "presumed_victim":
        effects = _enter(s, Stage.PROTECTION, now)
        if s.consent.legal and not s.police_report and not _has_service(s, "police_report"):
            effects += _refer(s, "police_report", now)
        return effects
    if outcome == "not_victim":
        where = f" (referred to {e.data.referred_elsewhere})" if e.data.referred_elsewhere else ""
        return close(s, p, f"screening outcome: not a victim of trafficking{where}", now)
    s.note(now, "stage", "screening needs more information: deadline extended")
    return []


def _police_report(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: T11, T12 — the report stops T11 and starts T12
    s.police_report = True
    return []


def _shelter_admitted(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    s.in_shelter = True
    return []


def _shelter_discharged(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    s.in_shelter = False
    return []


def _lpsk_filed(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: T3, T4
    s.lpsk_pending = True
    return []


def _lpsk_decision(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: T3, T4
    s.lpsk_pending = False
    return []


def _safe_placement(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    effects = _enter(s, Stage.REHABILITATION, now)
    if s.consent.legal and not _has_service(s, "legal_aid"):
        effects += _refer(s, "legal_aid", now)
    return effects


def _request_filed(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: T1 — one clock per requested service
    effects: list[Effect] = []
    for service in e.data.services:
        s.services[service] = "requested"
        effects += _refer(s, service, now)
    return effects


def _first_aid_requested(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: T2
    s.first_aid_pending = True
    return _refer(s, "urgent_first_aid", now)


def _first_aid_provided(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: T2
    s.first_aid_pending = False
    return []


def _service_started(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: T1
    s.services[e.data.service] = "started"
    return []


def _service_completed(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    s.services[e.data.service] = "completed"
    return []


def _rehabilitation_completed(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: abroad, domestic, foreign_national — repatriation, a domestic return, or none
    if e.data.needs_repatriation or s.facts.foreign_national or s.facts.abroad:
        effects = _enter(s, Stage.REPATRIATION, now)
        if s.facts.foreign_national:
            return effects + _refer(s, "handover_to_mission", now)
        if s.facts.abroad:
            effects += _refer(s, "travel_document_and_return", now)
            if s.facts.pmi:
                effects += _refer(s, "port_reception", now)
            return effects + _refer(s, "onward_travel", now)
        return effects + _refer(s, "domestic_return", now)
    s.note(now, "stage", "the victim is already home: repatriation skipped")
    return _enter_reintegration(s, now)


def _risk_assessed(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: unsafe_return
    s.risk_assessed_safe = e.data.safe
    if e.data.safe:
        return []
    # Return unsafe: do not return; protect locally (OSCE/ODIHR guiding principles on return, 2014).
    s.return_unsafe = True
    effects = _cancel_referrals(s, p, now, "return assessed unsafe",
                                lambda r: r.stage == Stage.REPATRIATION)
    s.note(now, "stage", "return assessed unsafe: no return; local protection and integration")
    return effects + _enter_reintegration(s, now)


def _best_interest(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: child
    s.best_interest_ok = e.data.caregiver_confirmed and e.data.return_in_best_interest
    if not s.best_interest_ok:
        s.note(now, "stage", "no confirmed caregiver or not in the child's best interest: the child does not return")
    return []


def _travel_document(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    s.travel_document = True
    return []


def _departed(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    s.departed = True
    return []


def _arrived_home(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    s.regency = e.data.regency
    s.facts = s.facts.model_copy(update={"abroad": False})
    return _enter_reintegration(s, now)


def _handed_over(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: foreign_national — the case ends at hand-over (UU 21/2007 Art. 54(2))
    return close(s, p, f"handed over to the victim's own mission ({ART_54_2})", now)


def _plan_agreed(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: T23
    s.plan_agreed = True
    return []


def _followup(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: crisis_reopens_protection; rule: T23, S2
    s.followups_done += 1
    if e.data.wellbeing == "at_risk":
        s.note(now, "stage", "follow-up: at risk (watch for re-trafficking)")
    if e.data.wellbeing != "crisis":
        return []
    s.retrafficking_risk = True
    s.plan_agreed = False
    clocks.cancel(s, lambda c: c.clock_id == "T23", now, "protection re-opened")
    return _enter(s, Stage.PROTECTION, now, "crisis at follow-up: protection re-opened")  # refers to shelter


def _reintegration_completed(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    return close(s, p, "reintegration completed", now)


def _rights_settled(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    return []


ANSWERS = ("referral.acknowledged", "referral.accepted", "referral.declined")


def _received_before_confirmed(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
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


def _referral_ack(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: S3, S4 — acknowledged stops S3 and starts S4
    s.referrals[e.data.referral_id].status = "acknowledged"
    return []


def _referral_accepted(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: S3, S4
    s.referrals[e.data.referral_id].status = "accepted"
    return []


def _referral_completed(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    s.referrals[e.data.referral_id].status = "completed"
    clocks.cancel(s, lambda c: c.context == e.data.referral_id, now, "referral completed")
    return []


def _referral_declined(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    referral = s.referrals[e.data.referral_id]
    referral.status = "declined"
    referral.reason = limits.clip(e.data.reason, limits.REASON_MAX)
    authority.referral_ended(s, referral)
    clocks.cancel(s, lambda c: c.context == referral.referral_id, now, "referral declined")
    return reroute(s, referral, f"declined by {referral.office}: {e.data.reason or 'no reason given'}", now)


def reroute(s: CaseState, referral: Referral, why: str, now: datetime) -> list[Effect]:
    """A declined or undeliverable referral goes to the next kind of agency; never dropped."""
    tried = [*referral.kinds_tried, referral.kind]
    remaining = [k for k in routing.kinds_for(referral.service, s.facts) if k not in tried]
    if remaining:
        s.note(now, "referral", f"{referral.referral_id} {why}; re-routed to {remaining[0]}", referral.referral_id)
        return _refer(s, referral.service, now, mandated_by=referral.mandated_by, kind=remaining[0],
                      kinds_tried=tried)
    task = open_manual_task(s, "gugus_tugas", f"{routing.describe(referral.service)}: {why}; no other agency "
                            "is available: arrange it by phone or letter", now, referral.referral_id)
    return escalate_referral(s, f"referral {referral.referral_id} ({routing.describe(referral.service)}) {why}; "
                             f"manual task {task.id}", now)


def escalate_referral(s: CaseState, text: str, now: datetime) -> list[Effect]:
    """A referral that cannot go through is escalated to the province task force (Perpres 49/2023)."""
    s.escalations.append(Escalation(clock="referral", rung=1, role="province task force", agency="gugus_tugas",
                                    level="province", at=now, reason=limits.clip(text, limits.REASON_MAX),
                                    source="Perpres 49/2023"))
    s.note(now, "escalation", text)
    return [SendNotice(_notice(s, "escalation", "gugus_tugas", text, level="province"))]


def _consent_recorded(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: consent_withdrawn — re-contact: consent given again releases held referrals
    setattr(s.consent, e.data.scope, True)
    if e.data.agency in s.consent.withheld_from:
        s.consent.withheld_from.remove(e.data.agency)
    s.note(now, "consent", f"consent recorded: {e.data.scope}")
    effects: list[Effect] = []
    if e.data.scope == "services" and "consent_withdrawn" in s.pause_reasons:
        effects += clocks.resume(s, p, "consent_withdrawn", now)
    for referral in s.referrals.values():
        if referral.status == "held" and _may_share(s, referral):
            referral.status = "pending"
            effects.append(Deliver(referral.referral_id))
    if e.data.scope == "legal" and s.stage != Stage.IDENTIFICATION and not _has_service(s, "police_report"):
        effects += _refer(s, "police_report", now)
    return effects


def _consent_withdrawn(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: consent_withdrawn, legal_track — stop sharing; mandated police processes continue (Art. 26)
    scope, agency = e.data.scope, e.data.agency
    if agency is None:
        setattr(s.consent, scope, False)
    elif agency not in s.consent.withheld_from:
        s.consent.withheld_from.append(agency)  # later referrals to it stay held too
    s.note(now, "consent", f"consent withdrawn: {scope}" + (f" for {agency}" if agency else ""))
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
        effects.append(SendNotice(_notice(
            s, "restriction", None, f"consent for {scope} withdrawn: stop processing and sharing this case's "
            "personal data except where the law requires it", office=office)))
    if restricted:
        s.note(now, "notice", f"restriction notices sent to {', '.join(restricted)}")
    return effects


def _contact_lost(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: contact_lost
    s.contact_attempts = 0
    effects = clocks.pause(s, p, "contact_lost", now)
    _escalate_contact(s, p, 1, "regency", "contact with the victim lost", now)
    effects.append(SendNotice(_notice(s, "contact_search", p.contact_lost.escalate_to,
                                      "contact with the victim lost: victim-dependent deadlines paused; "
                                      "please help re-establish contact", level="regency")))
    return effects + [StartContactSearch(now)]


def _contact_restored(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
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
    return [SendNotice(_notice(s, "contact_search", rule.escalate_to,
                               f"contact attempt {s.contact_attempts} of {rule.max_attempts} failed",
                               level="province"))]


def _escalate_contact(s: CaseState, p: Policy, rung: int, level: str, reason: str, now: datetime) -> None:
    """Record the search for a lost victim as an escalation, so the case shows as escalated (status, search)."""
    s.escalations.append(Escalation(clock="contact_lost", rung=rung, role=f"{level} task force",
                                    agency=p.contact_lost.escalate_to, level=level, at=now, reason=reason,
                                    source=p.contact_lost.source))


def _deceased(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: death, legal_track — assistance closes; heirs keep restitution rights
    if s.legal_track_open:
        s.note(now, "stage", "the legal track continues: heirs keep restitution rights")
    return close(s, p, "victim deceased", now)


def _transferred(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
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
        replacement = _refer(s, referral.service, now, mandated_by=referral.mandated_by, kind=referral.kind)
        effects += [] if was_held and not replacement else replacement
    if s.rules_version >= 4:
        # The lead moves with the case: the new place's office of the lead kind, once found.
        authority.moved(s)
        effects.append(FindLead(authority.lead_kind(s)))
    return effects


def _breach_discovered(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # rule: T21
    return []


def _closed_by_operator(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    return close(s, p, e.data.reason, now)


def _investigation_opened(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: legal_track
    s.legal_track_open = True
    return []


def _legal_ended(s: CaseState, p: Policy, e, now: datetime) -> list[Effect]:
    # branch: legal_track; rule: T6
    s.legal_track_open = False
    return []


_HANDLERS: dict[str, Callable[[CaseState, Policy, object, datetime], list[Effect]]] = {
    "identification.screening_completed": _screening,
    "identification.police_report_filed": _police_report,
    "protection.shelter_admitted": _shelter_admitted,
    "protection.shelter_discharged": _shelter_discharged,
    "protection.lpsk_application_filed": _lpsk_filed,
    "protection.lpsk_decision": _lpsk_decision,
    "protection.safe_placement_confirmed": _safe_placement,
    "rehabilitation.request_filed": _request_filed,
    "rehabilitation.first_aid_requested": _first_aid_requested,
    "rehabilitation.first_aid_provided": _first_aid_provided,
    "rehabilitation.service_started": _service_started,
    "rehabilitation.service_completed": _service_completed,
    "rehabilitation.completed": _rehabilitation_completed,
    "repatriation.risk_assessed": _risk_assessed,
    "repatriation.best_interest_determined": _best_interest,
    "repatriation.travel_document_issued": _travel_document,
    "repatriation.departed": _departed,
    "repatriation.arrived_home": _arrived_home,
    "repatriation.handed_over": _handed_over,
    "reintegration.plan_agreed": _plan_agreed,
    "reintegration.followup_completed": _followup,
    "reintegration.rights_settled": _rights_settled,
    "reintegration.completed": _reintegration_completed,
    "referral.acknowledged": _referral_ack,
    "referral.accepted": _referral_accepted,
    "referral.declined": _referral_declined,
    "referral.completed": _referral_completed,
    "consent.recorded": _consent_recorded,
    "consent.withdrawn": _consent_withdrawn,
    "case.contact_lost": _contact_lost,
    "case.contact_restored": _contact_restored,
    "case.victim_deceased": _deceased,
    "case.transferred": _transferred,
    "case.data_breach_discovered": _breach_discovered,
    "case.closed": _closed_by_operator,
    "legal.investigation_opened": _investigation_opened,
    "legal.restitution_paid": _legal_ended,
    "legal.proceedings_ended": _legal_ended,
}


# --- stages, referrals, closure -------------------------------------------------------------------


def _enter(s: CaseState, stage: Stage, now: datetime, why: str | None = None) -> list[Effect]:
    # rule: S2 — entering protection refers to a shelter
    s.stage = stage
    s.note(now, "stage", why or f"stage: {stage}")
    if stage == Stage.PROTECTION:
        return _refer(s, "shelter", now)
    return []


def _enter_reintegration(s: CaseState, now: datetime) -> list[Effect]:
    effects = _enter(s, Stage.REINTEGRATION, now)
    effects += _refer(s, "family_reintegration", now)
    if s.facts.pmi:
        effects += _refer(s, "rights_and_empowerment", now)
    return effects


def _has_service(s: CaseState, service: str) -> bool:
    return any(r.service == service and r.status not in ("cancelled",) for r in s.referrals.values())


def _may_share(s: CaseState, referral: Referral) -> bool:
    return sharing.may_share(s.consent, referral)


def _refer(s: CaseState, service: str, now: datetime, *, mandated_by: str | None = None,
           kind: str | None = None, kinds_tried: list[str] | None = None,
           returns_to_source: bool = False) -> list[Effect]:
    referral = Referral(
        referral_id=s.next_id("R"), service=service, kind=kind or routing.kinds_for(service, s.facts)[0],
        kinds_tried=kinds_tried or [], mandated_by=mandated_by, created_at=now, stage=s.stage,
        returns_to_source=returns_to_source,
    )
    s.referrals[referral.referral_id] = referral
    label = f"{referral.referral_id}: {routing.describe(service)} → {referral.kind}"
    if mandated_by:
        label += f" (mandated: {mandated_by})"
    if not _may_share(s, referral):
        referral.status = "held"
        s.note(now, "referral", f"{label} held: no consent for sharing", referral.referral_id)
        return []
    s.note(now, "referral", label, referral.referral_id)
    return [Deliver(referral.referral_id)]


def _cancel_referrals(s: CaseState, p: Policy, now: datetime, why: str,
                      which: Callable[[Referral], bool]) -> list[Effect]:
    effects: list[Effect] = []
    for referral in s.referrals.values():
        if referral.status in OPEN_REFERRAL and which(referral):
            referral.status = "cancelled"
            referral.reason = why
            effects.append(StopDelivery(referral.referral_id))
            clocks.cancel(s, lambda c, rid=referral.referral_id: c.context == rid, now, why)
    return effects


def close(s: CaseState, p: Policy, reason: str, now: datetime) -> list[Effect]:
    # branch: death, legal_track; rule: T6, T21 — their clocks outlive the assistance
    """Close assistance. Clocks of the legal track and of a data breach notice keep running."""
    s.closed = True
    s.closure_reason = reason
    s.stage = Stage.CLOSED
    s.note(now, "stage", f"closed: {reason}")
    clocks.cancel(s, lambda c: not clocks.survives_closure(p, c.clock_id), now, "case closed")
    return _cancel_referrals(s, p, now, "case closed", lambda r: True)


def open_manual_task(s: CaseState, agency: str, reason: str, now: datetime,
                     referral_id: str | None = None) -> ManualTask:
    task = ManualTask(id=s.next_id("M"), agency=agency, reason=limits.clip(reason, limits.REASON_MAX), opened_at=now,
                      referral_id=referral_id)
    s.manual_tasks.append(task)
    s.note(now, "task", f"manual task {task.id}: {reason}", task.id)
    return task


def _notice(s: CaseState, purpose: str, kind: str | None, text: str, *, level: str = "office",
            office: str | None = None, clock: str | None = None, source: str | None = None,
            rung: int | None = None) -> Notice:
    return Notice(notice_id=s.next_id("N"), case_id=s.case_id, purpose=purpose, kind=kind, office=office,
                  level=level, province=s.province, regency=s.regency, text=text, clock=clock, source=source,
                  rung=rung)


notice = _notice
may_share = _may_share
