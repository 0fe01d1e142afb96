"""What the event families share: the registration of a handler, the guard combinators, stages, referrals,
closure, manual tasks and notices.

A family module registers each event it handles with `@handles(EventClass, guard, refusal)`: the guard says
whether the case accepts the event now (its state only), the refusal what in the event's data does not fit,
the handler what it changes. `sinergi.domain.delivery` uses the referral, task and notice helpers too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel

from sinergi.domain import clocks, limits, routing, sharing
from sinergi.domain.case import OPEN_REFERRAL, CaseState, Escalation, ManualTask, Referral, Stage
from sinergi.domain.effects import Deliver, Effect, Notice, SendNotice, StopDelivery
from sinergi.domain.events import event_type
from sinergi.domain.policy import Policy

ASSISTANCE_STAGES = (Stage.PROTECTION, Stage.REHABILITATION, Stage.REPATRIATION, Stage.REINTEGRATION)

# --- registration ---------------------------------------------------------------------------------

Guard = Callable[[CaseState], str | None]
E = TypeVar("E", bound=BaseModel)


class Handling(NamedTuple):
    """How a case takes one event type."""

    guard: Guard  # why the case refuses the event now, from its state alone (None: accepted)
    refusal: Callable[[CaseState, Any], str | None] | None  # why the event's data does not fit the case
    handler: Callable[[CaseState, Policy, Any, datetime], list[Effect]]  # what it changes: the effects


HANDLING: dict[str, Handling] = {}


def handles(event: type[E], guard: Guard, refusal: Callable[[CaseState, E], str | None] | None = None):
    """Register the decorated function as what `event` does to a case, once `guard` and `refusal` let it in."""
    type_name = event_type(event)

    def register(handler: Callable[[CaseState, Policy, E, datetime], list[Effect]]):
        assert type_name not in HANDLING, f"{type_name} is handled twice"
        HANDLING[type_name] = Handling(guard, refusal, handler)
        return handler

    return register


# --- guards: each returns why the case refuses the event now, or None -----------------------------


def is_open(s: CaseState) -> str | None:
    return "the case is closed" if s.closed else None


def in_stage(*stages: Stage) -> Guard:
    names = " or ".join(str(st) for st in stages)

    def guard(s: CaseState) -> str | None:
        return is_open(s) or (None if s.stage in stages else f"the case is in {s.stage}, not {names}")

    return guard


def all_of(*guards: Guard) -> Guard:
    def guard(s: CaseState) -> str | None:
        for g in guards:
            if reason := g(s):
                return reason
        return None

    return guard


def need(test: Callable[[CaseState], bool], reason: str) -> Guard:
    return lambda s: None if test(s) else reason


def in_flight(s: CaseState, referral) -> bool:
    """Routed to an office whose delivery has not been confirmed yet (the call may still be under way)."""
    return s.rules_version >= 3 and referral.status == "pending" and referral.office is not None


# --- stages, referrals, closure -------------------------------------------------------------------


def enter(s: CaseState, stage: Stage, now: datetime, why: str | None = None) -> list[Effect]:
    # rule: S2 — entering protection refers to a shelter
    s.stage = stage
    s.note(now, "stage", why or f"stage: {stage}")
    if stage == Stage.PROTECTION:
        return refer(s, "shelter", now)
    return []


def enter_reintegration(s: CaseState, now: datetime) -> list[Effect]:
    effects = enter(s, Stage.REINTEGRATION, now)
    effects += refer(s, "family_reintegration", now)
    if s.facts.pmi:
        effects += refer(s, "rights_and_empowerment", now)
    return effects


def has_service(s: CaseState, service: str) -> bool:
    return any(r.service == service and r.status not in ("cancelled",) for r in s.referrals.values())


def may_share(s: CaseState, referral: Referral) -> bool:
    return sharing.may_share(s.consent, referral)


def refer(s: CaseState, service: str, now: datetime, *, mandated_by: str | None = None,
          kind: str | None = None, kinds_tried: list[str] | None = None,
          returns_to_source: bool = False) -> list[Effect]:
    referral = Referral(
        referral_id=s.next_id("R"), service=service, kind=kind or routing.kinds_for(service, s.facts)[0],
        kinds_tried=kinds_tried or [], mandated_by=mandated_by, created_at=now, stage=s.stage,
        returns_to_source=returns_to_source,
    )
    s.referrals[referral.referral_id] = referral
    # Whole sentences (the same text as ever), as the CLI tells them in the reader's language (`timeline_words`).
    label = (f"{referral.referral_id}: {routing.describe(service)} → {referral.kind} (mandated: {mandated_by})"
             if mandated_by else f"{referral.referral_id}: {routing.describe(service)} → {referral.kind}")
    if not may_share(s, referral):
        referral.status = "held"
        s.note(now, "referral", f"{label} held: no consent for sharing", referral.referral_id)
        return []
    s.note(now, "referral", label, referral.referral_id)
    return [Deliver(referral.referral_id)]


def cancel_referrals(s: CaseState, p: Policy, now: datetime, why: str,
                     which: Callable[[Referral], bool]) -> list[Effect]:
    effects: list[Effect] = []
    for referral in s.referrals.values():
        if referral.status in OPEN_REFERRAL and which(referral):
            referral.status = "cancelled"
            referral.reason = why
            effects.append(StopDelivery(referral.referral_id))
            clocks.cancel(s, lambda c, rid=referral.referral_id: c.context == rid, now, why)
    return effects


def reroute(s: CaseState, referral: Referral, why: str, now: datetime) -> list[Effect]:
    """A declined or undeliverable referral goes to the next kind of agency; never dropped."""
    tried = [*referral.kinds_tried, referral.kind]
    remaining = [k for k in routing.kinds_for(referral.service, s.facts) if k not in tried]
    if remaining:
        s.note(now, "referral", f"{referral.referral_id} {why}; re-routed to {remaining[0]}", referral.referral_id)
        return refer(s, referral.service, now, mandated_by=referral.mandated_by, kind=remaining[0],
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
    return [SendNotice(notice(s, "escalation", "gugus_tugas", text, level="province"))]


def close(s: CaseState, p: Policy, reason: str, now: datetime) -> list[Effect]:
    # branch: death, legal_track; rule: T6, T21 — their clocks outlive the assistance
    """Close assistance. Clocks of the legal track and of a data breach notice keep running."""
    s.closed = True
    s.closure_reason = reason
    s.stage = Stage.CLOSED
    s.note(now, "stage", f"closed: {reason}")
    clocks.cancel(s, lambda c: not clocks.survives_closure(p, c.clock_id), now, "case closed")
    return cancel_referrals(s, p, now, "case closed", lambda r: True)


def open_manual_task(s: CaseState, agency: str, reason: str, now: datetime,
                     referral_id: str | None = None) -> ManualTask:
    task = ManualTask(id=s.next_id("M"), agency=agency, reason=limits.clip(reason, limits.REASON_MAX), opened_at=now,
                      referral_id=referral_id)
    s.manual_tasks.append(task)
    s.note(now, "task", f"manual task {task.id}: {reason}", task.id)
    return task


def notice(s: CaseState, purpose: str, kind: str | None, text: str, *, level: str = "office",
           office: str | None = None, clock: str | None = None, source: str | None = None,
           rung: int | None = None) -> Notice:
    return Notice(notice_id=s.next_id("N"), case_id=s.case_id, purpose=purpose, kind=kind, office=office,
                  level=level, province=s.province, regency=s.regency, text=text, clock=clock, source=source,
                  rung=rung)
