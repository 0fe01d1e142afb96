"""Clock rules applied to a case: start, stop, pause, resume, expire and escalate (DOMAIN §4).

The workflow owns the timers; this module owns what a timer means. Every function is pure over
`CaseState` with `now` passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sinergi.domain import routing
from sinergi.domain.case import Breach, CaseState, Clock, Escalation
from sinergi.domain.effects import Effect, Notice, SendNotice, StartClock
from sinergi.domain.policy import ClockRule, Policy, Rung

LIVE = frozenset({"running", "paused", "breached"})


def survives_closure(policy: Policy, clock_id: str) -> bool:
    # rule: T6, T21; branch: legal_track
    """The legal track and a data-breach notice outlive the assistance (DOMAIN §3 death; UU 27/2022)."""
    rule = _rule(policy, clock_id)
    return rule is not None and all(t.startswith(("legal.", "case.data_breach")) for t in rule.starts_on)


def _rule(policy: Policy, clock_id: str) -> ClockRule | None:
    return next((c for c in policy.clocks if c.id == clock_id), None)


def _condition_holds(state: CaseState, rule: ClockRule) -> bool:
    # rule: T11, T12, T15 — clocks that run only for some cases
    return rule.when is None or bool(getattr(state.facts, rule.when))


def fire(state: CaseState, policy: Policy, triggers: Sequence[str], contexts: Sequence[str | None],
         now: datetime) -> list[Effect]:
    """Stop the clocks these triggers stop, then start the clocks they start."""
    stop_matching(state, policy, triggers, contexts, now)
    return start_matching(state, policy, triggers, contexts, now)


def start_matching(state: CaseState, policy: Policy, triggers: Sequence[str], contexts: Sequence[str | None],
                   now: datetime) -> list[Effect]:
    """Start the clocks these triggers start (their conditions permitting)."""
    effects: list[Effect] = []
    days_off: frozenset | None = None  # built once, and only when a clock starts (not on every event)
    for rule in policy.clocks:
        if not set(triggers) & set(rule.starts_on) or not _condition_holds(state, rule):
            continue
        days_off = frozenset(policy.working_days.days_off) if days_off is None else days_off
        due = [d.add_to(now, state.province, days_off) for d in rule.durations]
        # rule: T23 — one clock per follow-up visit (1, 3, 6, 12 months)
        if rule.scope == "followup":
            for number, due_at in enumerate(due, start=1):
                effects += _start(state, rule, str(number), due_at, now)
        elif rule.scope == "case":
            effects += _start(state, rule, None, due[0], now)
        else:
            for context in contexts:
                if context is not None:
                    effects += _start(state, rule, context, due[0], now)
    return effects


def stop_matching(state: CaseState, policy: Policy, triggers: Sequence[str], contexts: Sequence[str | None],
                  now: datetime) -> None:
    for rule in policy.clocks:
        if not set(triggers) & set(rule.stops_on):
            continue
        live = [c for c in state.clocks.values() if c.clock_id == rule.id and c.state in LIVE]
        if rule.scope in ("service", "referral"):
            live = [c for c in live if c.context in contexts]
        elif rule.scope == "followup":
            live = sorted(live, key=lambda c: c.due_at)[:1]
        for clock in live:
            clock.state = "stopped"
            clock.ended_at = now
            state.note(now, "clock", f"{_label(rule, clock)} stopped", clock.key)


def _start(state: CaseState, rule: ClockRule, context: str | None, due_at: datetime,
           now: datetime) -> list[Effect]:
    key = rule.id if context is None else f"{rule.id}:{context}"
    if key in state.clocks:
        # A restarted clock (S1 after "needs more info") is a new instance: old timers must not see it.
        key = f"{key}~{state.next_id('C')}"
    paused = rule.victim_dependent and state.paused
    clock = Clock(key=key, clock_id=rule.id, context=context, started_at=now, due_at=due_at,
                  state="paused" if paused else "running", paused_at=now if paused else None,
                  responsible=_responsible(state, rule, context))
    state.clocks[key] = clock
    state.note(now, "clock", f"{_label(rule, clock)} started, due {due_at.isoformat()}", key)
    return [StartClock(key)]


def _responsible(state: CaseState, rule: ClockRule, context: str | None) -> str | None:
    # rule: S2, S3, S4, T1 — the agency answerable for a referral or service clock
    if rule.responsible == "referral":
        if context in state.referrals:
            return state.referrals[context].kind
        shelters = [r for r in state.referrals.values() if r.service == "shelter"]
        return shelters[-1].kind if shelters else None
    if rule.responsible == "service" and context is not None:
        return routing.kinds_for(context, state.facts)[0]
    return rule.responsible


def _label(rule: ClockRule, clock: Clock) -> str:
    about = f" ({clock.context})" if clock.context else ""
    return f"{rule.id} {rule.source}: {rule.title}{about}"


def summary(policy: Policy, clock: Clock) -> str:
    """Timer summary for the Temporal UI, e.g. `T1 UU 21/2007 Art. 52(1): social rehabilitation due`,
    `S3 sinergi default (no statute): agency acknowledges a referral (R4) due`. No personal data."""
    rule = policy.clock(clock.clock_id)
    if clock.context in routing.SERVICES:
        what = routing.describe(clock.context)
    elif rule.scope == "followup":
        what = f"{rule.title} {clock.context}"
    else:
        what = rule.title + (f" ({clock.context})" if clock.context else "")
    return f"{rule.id} {rule.source}: {what} due"


def cancel(state: CaseState, which: Callable[[Clock], bool], now: datetime, why: str) -> None:
    """Cancel live clocks whose context closed: no stale reminder may fire after this."""
    for clock in state.clocks.values():
        if clock.state in LIVE and which(clock):
            clock.state = "cancelled"
            clock.ended_at = now
            state.note(now, "clock", f"{clock.key} cancelled: {why}", clock.key)


def pause(state: CaseState, policy: Policy, reason: str, now: datetime) -> list[Effect]:
    # branch: contact_lost, consent_withdrawn — victim-dependent clocks wait
    """Pause the victim-dependent clocks (contact lost, assistance declined)."""
    if reason not in state.pause_reasons:
        state.pause_reasons.append(reason)
    for clock in state.clocks.values():
        if clock.state == "running" and policy.clock(clock.clock_id).victim_dependent:
            clock.state = "paused"
            clock.paused_at = now
            clock.generation += 1
            state.note(now, "clock", f"{clock.key} paused: {reason}", clock.key)
    return []


def resume(state: CaseState, policy: Policy, reason: str, now: datetime) -> list[Effect]:
    """Lift one pause reason; when none is left, paused clocks run again with their time extended."""
    if reason in state.pause_reasons:
        state.pause_reasons.remove(reason)
    if state.paused:
        return []
    for clock in state.clocks.values():
        if clock.state == "paused" and clock.paused_at is not None:
            clock.due_at += now - clock.paused_at
            clock.paused_at = None
            clock.state = "running"
            clock.generation += 1
            state.note(now, "clock", f"{clock.key} resumed, due {clock.due_at.isoformat()}", clock.key)
    return []


def expired(state: CaseState, policy: Policy, key: str, now: datetime) -> list[Effect]:
    """The clock's timer fired while it still ran: a breach (statutory), a warning, or a period's end."""
    clock = state.clocks[key]
    rule = policy.clock(clock.clock_id)
    # rule: T17 — a period ends; nothing is breached
    if rule.period:
        clock.state = "stopped"
        clock.ended_at = now
        state.note(now, "clock", f"{_label(rule, clock)} ended", key)
        return []
    clock.state = "breached"
    clock.breached_at = now
    # rule: T1, T2, T3, T11, T12, T6, T21 (breach); T4, T15, S1, S2, S3, S4, T23 (warning)
    kind = "breach" if rule.kind == "statutory" else "warning"
    state.breaches.append(Breach(clock=rule.id, source=rule.source, at=now, context=clock.context, kind=kind))
    # Two whole sentences, as the CLI tells them in the reader's language (`commands.timeline_words`).
    state.note(now, "breach", f"{_label(rule, clock)} missed (breach)" if kind == "breach"
               else f"{_label(rule, clock)} missed (SLA warning)", key)
    return []


def next_rung_due(policy: Policy, clock: Clock) -> tuple[int, Rung, datetime] | None:
    """The next rung of a breached clock's ladder and when it is due, or None when the ladder is done.

    Due times derive from `breached_at` and the rungs' waits, so a ladder resumes exactly after
    continue-as-new or a worker restart.
    """
    ladder = policy.clock(clock.clock_id).escalation
    if clock.state != "breached" or clock.breached_at is None or clock.rungs_done >= len(ladder):
        return None
    wait = sum(r.after_seconds for r in ladder[: clock.rungs_done + 1])
    return clock.rungs_done, ladder[clock.rungs_done], clock.breached_at + timedelta(seconds=wait)


def escalate(state: CaseState, policy: Policy, key: str, now: datetime) -> list[Effect]:
    # rule: T1, T2, T3, T4 — the default ladder (DOMAIN §4; no statute sets one)
    """Climb one rung: record the escalation with its rule and source, and notify that rung."""
    clock = state.clocks[key]
    found = next_rung_due(policy, clock)
    if found is None:
        return []
    index, rung, _ = found
    rule = policy.clock(clock.clock_id)
    agency = clock.responsible if rung.agency in ("responsible", "service", "referral") else rung.agency
    agency = agency or "gugus_tugas"
    clock.rungs_done = index + 1
    reason = f"{_label(rule, clock)} missed"
    state.escalations.append(Escalation(clock=rule.id, rung=index + 1, role=rung.role, agency=agency,
                                        level=rung.level, at=now, reason=reason, source=rule.source))
    state.note(now, "escalation", f"{reason}: escalated to {rung.role} ({agency}), rung {index + 1}", key)
    text = (f"{'Statutory deadline' if rule.kind == 'statutory' else 'Service standard'} {rule.id} "
            f"({rule.source}) missed: {rule.title}{f' ({clock.context})' if clock.context else ''}. "
            f"Escalated to {rung.role}.")
    notice = Notice(notice_id=f"{state.case_id}-{key}-E{index + 1}", case_id=state.case_id, purpose="escalation",
                    kind=agency, level=rung.level, province=state.province, regency=state.regency, text=text,
                    clock=rule.id, source=rule.source, rung=index + 1)
    return [SendNotice(notice)]
