"""What a case shows to operators and agency systems (SPEC "JSON shapes"), built from its state. No personal data.

The models themselves are `sinergi.domain.view_models`' (a client decodes them without this module's imports),
re-exported here."""

from __future__ import annotations

from datetime import datetime

from sinergi.domain import authority, clocks, lifecycle, limits, routing
from sinergi.domain.case import OPEN_REFERRAL, CaseState, Escalation, ManualTask
from sinergi.domain.policy import Policy
from sinergi.domain.view_models import (  # noqa: F401 - re-exported: `views.CaseStatus` as ever
    BreachView,
    CaseStatus,
    CaseTimeline,
    CaseWhy,
    ClockView,
    ConsentView,
    Deadline,
    DeliveryView,
    EscalationView,
    ManualTaskView,
    ReferralView,
    TimelineEntry,
    Waiting,
)


def _referral_due(state: CaseState, referral_id: str) -> datetime | None:
    live = [c.due_at for c in state.clocks.values() if c.context == referral_id and c.state in clocks.LIVE]
    return min(live) if live else None


def _open_tasks(tasks: list[ManualTask]) -> list[ManualTaskView]:
    return [ManualTaskView(id=t.id, agency=t.agency, reason=t.reason, opened_at=t.opened_at,
                           referral_id=t.referral_id) for t in tasks if t.closed_at is None]


def _escalation_view(e: Escalation) -> EscalationView:
    return EscalationView(clock=e.clock, rung=e.rung, agency=e.agency, at=e.at, role=e.role, reason=e.reason,
                          source=e.source)


def status(state: CaseState, policy: Policy) -> CaseStatus:
    flags = [name for name in ("police_report", "in_shelter", "lpsk_pending", "first_aid_pending", "return_unsafe",
                               "plan_agreed", "retrafficking_risk", "legal_track_open") if getattr(state, name)]
    flags += [f"paused:{reason}" for reason in state.pause_reasons]
    flags += [name for name in ("abroad", "foreign_national", "pmi", "sexual_exploitation")
              if getattr(state.facts, name)]
    return CaseStatus(
        case_id=state.case_id, stage=str(state.stage), closed=state.closed, closure_reason=state.closure_reason,
        province=state.province, regency=state.regency, is_child=state.facts.child, opened_at=state.opened_at,
        referrals=[ReferralView(referral_id=r.referral_id, agency=r.office or r.kind, kind=r.kind, service=r.service,
                                status=r.status, due_at=_referral_due(state, r.referral_id), mandated_by=r.mandated_by,
                                last_error=r.last_error) for r in state.referrals.values()],
        clocks=[ClockView(id=c.clock_id, key=c.key, context=c.context, title=policy.clock(c.clock_id).title,
                          kind=policy.clock(c.clock_id).kind, source=policy.clock(c.clock_id).source,
                          started_at=c.started_at, due_at=c.due_at, state=c.state) for c in state.clocks.values()],
        breaches=[BreachView(clock=b.clock, source=b.source, at=b.at, kind=b.kind, context=b.context)
                  for b in state.breaches],
        escalations=[_escalation_view(e) for e in state.escalations],
        manual_tasks=_open_tasks(state.manual_tasks),
        consent=ConsentView(**state.consent.model_dump()),
        flags=flags,
        deliveries=[DeliveryView(office=d.office, ref=d.ref, purpose=d.purpose, fields=d.fields, at=d.at,
                                 mandated_by=d.mandated_by) for d in state.deliveries],
        accepted_events=lifecycle.accepted_now(state),
    )


def timeline(state: CaseState) -> CaseTimeline:
    return CaseTimeline(case_id=state.case_id, entries=sorted(state.timeline, key=lambda e: e.at))


def why(state: CaseState, policy: Policy) -> CaseWhy:
    waiting: list[str] = []
    items: list[Waiting] = []
    for r in state.referrals.values():
        if r.status not in OPEN_REFERRAL:
            continue
        who = r.office or f"a {r.kind} office"
        step = {"pending": f"delivery of the referral to {who}",
                "held": "the victim's consent to share data (consent.recorded)",
                "sent": "referral.acknowledged", "acknowledged": "referral.accepted or referral.declined",
                "accepted": "referral.completed"}[r.status]
        waiting.append(f"{who}: {step} for {r.referral_id} ({routing.describe(r.service)})")
        items.append(Waiting(on="referral", who=r.office, kind=r.kind, status=r.status, referral_id=r.referral_id,
                             service=r.service))
    for c in state.clocks.values():
        if c.state in ("running", "breached") and c.context not in state.referrals:
            rule = policy.clock(c.clock_id)
            if rule.stops_on:
                waiting.append(f"{c.responsible or 'the case team'}: {' or '.join(rule.stops_on)} "
                               f"({rule.id}: {rule.title}{f', {c.context}' if c.context else ''})")
                items.append(Waiting(on="clock", who=c.responsible, clock=rule.id, title=rule.title,
                                     context=c.context, events=list(rule.stops_on)))
    if state.pause_reasons:
        waiting.append(f"deadlines paused: {', '.join(state.pause_reasons)}")
        items.append(Waiting(on="paused", reasons=list(state.pause_reasons)))
    next_deadline = None
    if (c := next_clock(state)) is not None:
        rule = policy.clock(c.clock_id)
        next_deadline = Deadline(clock=rule.id, title=rule.title + (f" ({c.context})" if c.context else ""),
                                 source=rule.source, kind=rule.kind, due_at=c.due_at, state=c.state,
                                 responsible=c.responsible)
    errors = [r.last_error for r in state.referrals.values() if r.last_error]
    return CaseWhy(case_id=state.case_id, stage=str(state.stage), closed=state.closed, waiting_on=waiting,
                   next_deadline=next_deadline, last_error=errors[-1] if errors else None,
                   open_manual_tasks=_open_tasks(state.manual_tasks),
                   accepted_events=lifecycle.accepted_now(state),
                   lead_office=authority.lead_office(state),
                   at_size_limit=limits.state_bytes(state) > limits.STATE_SOFT_MAX_BYTES, waiting=items)


def next_clock(state: CaseState):
    """The clock due first among those running or already breached (climbing their ladder), or None."""
    live = [c for c in state.clocks.values() if c.state in ("running", "breached")]
    return min(live, key=lambda c: c.due_at) if live else None


def details(s: CaseState, policy: Policy) -> str:
    """The case as the Temporal UI shows it (markdown, the workflow's current details): no personal data."""
    lines = [f"**Stage:** {s.stage}" + (f" — closed: {s.closure_reason}" if s.closed else "")]
    open_refs = [r for r in s.referrals.values() if r.status in OPEN_REFERRAL]
    if open_refs:
        lines.append("\n**Open referrals**")
        lines += [f"- {r.referral_id}: {routing.describe(r.service)} → {r.office or r.kind} ({r.status})"
                  for r in open_refs]
    if (c := next_clock(s)) is not None:
        rule = policy.clock(c.clock_id)
        lines.append(f"\n**Next deadline:** {rule.id} ({rule.source}) {rule.title}"
                     f"{f' ({c.context})' if c.context else ''} — due {c.due_at.isoformat()} [{c.state}]")
    if s.escalations:
        lines.append(f"\n**Escalations:** {len(s.escalations)}")
    return "\n".join(lines)
