"""What the case record learns as a case moves: facts derived from the case's state, each once.

Pure, and imported by the workflow: no I/O, no database, no clock of its own (every time is the workflow's,
so a replay derives the very same facts, with the very same ids, and the record keeps each once). A fact is
a plain dict with its `kind` (a class of `sinergi.records`); the `record_facts` activity builds and writes it.

Most facts come from comparing the state with what was last seen (referrals sent and closed, clocks started,
stopped, breached, escalated, manual tasks, deliveries, page unlocks, stage changes); the applied events and
delivered notices are told by the workflow as they happen (`event`, `notice`), since the state keeps only
their keys. Nothing personal is a fact's field: the intake and free text go in `sealed`, which the record
stores encrypted with the case's own key.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sinergi.domain.case import CaseState
from sinergi.domain.effects import Notice
from sinergi.domain.events import Event, Sender
from sinergi.domain.intake import Intake
from sinergi.domain.policy import Policy

Fact = dict[str, Any]

# The referral step each answer brings the referral to.
ANSWER_STEPS = {"referral.acknowledged": "acknowledged", "referral.accepted": "accepted",
                "referral.declined": "declined", "referral.completed": "completed"}


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def opened(state: CaseState, intake: Intake) -> Fact:
    """The case's opening fact: its de-identified attributes, the whole intake sealed."""
    return {"kind": "CaseOpened", "case_id": state.case_id, "opened_at": _iso(state.opened_at),
            "rules_version": state.rules_version, "intake": intake.model_dump(mode="json")}


def from_state(state: CaseState, policy: Policy, *, with_stage: bool = False) -> list[Fact]:
    """Every fact the state as it stands holds (the record keeps each once, whatever was written before);
    `with_stage`: also the stage it is in, since its newest stage line (a back-fill: a running case tells
    each change as it happens)."""
    s, out = state, []
    if with_stage:
        out.append(stage(s, _stage_at(s)))
    for r in s.referrals.values():
        base = {"kind": "ReferralStep", "case_id": s.case_id, "referral_id": r.referral_id, "service": r.service,
                "kind_": r.kind, "office": r.office, "due_at": _iso(r.due_at), "mandated_by": r.mandated_by}
        # As created: before it was routed (the office, due time and so the fact's content would change).
        out.append({**base, "state": "created", "at": _iso(r.created_at), "office": None, "due_at": None})
        if r.sent_at is not None:
            out.append({**base, "state": "sent", "at": _iso(r.sent_at)})
        if r.closed_at is not None:
            out.append({**base, "state": r.status, "at": _iso(r.closed_at)})
    for c in s.clocks.values():
        rule = _rule(policy, c.clock_id)
        base = {"kind": "ClockChanged", "case_id": s.case_id, "clock_id": c.key, "rule": c.clock_id,
                "source": rule.source if rule else None, "office": c.responsible, "context": c.context}
        out.append({**base, "change": "start", "at": _iso(c.started_at), "due_at": _iso(c.due_at)})
        if c.ended_at is not None and c.state in ("stopped", "cancelled"):
            out.append({**base, "change": "stop" if c.state == "stopped" else "cancel", "at": _iso(c.ended_at)})
        if c.breached_at is not None:
            out.append({**base, "change": "breach", "at": _iso(c.breached_at), "due_at": _iso(c.due_at)})
    for b in s.breaches:
        if b.kind == "warning":
            out.append({"kind": "ClockChanged", "case_id": s.case_id, "clock_id": f"{b.clock}:{b.context or '-'}",
                        "rule": b.clock, "source": b.source, "change": "warning", "at": _iso(b.at),
                        "context": b.context})
    for e in s.escalations:
        out.append({"kind": "ClockChanged", "case_id": s.case_id, "clock_id": f"{e.clock}:escalation",
                    "rule": e.clock, "source": e.source, "change": "escalation", "rung": e.rung, "at": _iso(e.at),
                    "office": e.agency, "level": e.level, "role": e.role})
    for t in s.manual_tasks:
        base = {"kind": "ManualTaskChanged", "case_id": s.case_id, "task_id": t.id, "agency": t.agency,
                "referral_id": t.referral_id}
        out.append({**base, "state": "opened", "at": _iso(t.opened_at), "sealed": {"reason": t.reason}})
        if t.closed_at is not None:
            out.append({**base, "state": "closed", "at": _iso(t.closed_at)})
    for d in s.deliveries:
        if d.purpose == "page":
            out.append({"kind": "PageUnlocked", "case_id": s.case_id, "referral_id": d.ref, "office": d.office,
                        "fields": list(d.fields), "at": _iso(d.at)})
        else:
            out.append({"kind": "Delivery", "case_id": s.case_id, "office": d.office, "fields": list(d.fields),
                        "at": _iso(d.at), "how": "notice" if d.purpose == "notice" else "referral", "ref": d.ref,
                        "purpose": d.purpose, "mandated_by": d.mandated_by})
    return out


def event(state: CaseState, event: Event, sender: Sender | None, now: datetime,
          entered_by: str | None = None) -> list[Fact]:
    """An event the case just applied (and the referral step an office's answer brings): who sent it is the
    office (`sender`), or the operator the event names (`operator:<name>`); `entered_by`, the operator who typed
    an office's event for it (`case event --as`)."""
    who = sender.office if sender is not None else (event.source or "operator")
    out: list[Fact] = [{"kind": "EventApplied", "case_id": state.case_id, "sender": who, "event_id": event.event_id,
                        "type": event.type, "occurred_at": _iso(event.occurred_at), "applied_at": _iso(now),
                        **({"entered_by": entered_by} if entered_by else {})}]
    step = ANSWER_STEPS.get(event.type)
    referral = state.referrals.get(getattr(event.data, "referral_id", "") or "") if step else None
    if referral is not None:
        reason = getattr(event.data, "reason", None)
        code = getattr(event.data, "reason_code", None)
        out.append({"kind": "ReferralStep", "case_id": state.case_id, "referral_id": referral.referral_id,
                    "service": referral.service, "kind_": referral.kind, "office": referral.office, "state": step,
                    "at": _iso(now), "due_at": _iso(referral.due_at), "mandated_by": referral.mandated_by,
                    **({"reason_code": code} if code else {}), **({"sealed": {"reason": reason}} if reason else {})})
    return out


def notice(state: CaseState, notice: Notice, office: str | None, now: datetime) -> Fact:
    """A notice delivered (its text is not kept: it can quote what an office typed)."""
    return {"kind": "NoticeSent", "case_id": state.case_id, "notice_id": notice.notice_id, "purpose": notice.purpose,
            "office": office or notice.office, "kind_": notice.kind, "level": notice.level,
            "province": state.province, "regency": state.regency, "clock": notice.clock, "source": notice.source,
            "rung": notice.rung, "at": _iso(now)}


def stage(state: CaseState, now: datetime) -> Fact:
    return {"kind": "StageChanged", "case_id": state.case_id, "stage": str(state.stage), "at": _iso(now)}


def snapshot(state: CaseState, views: dict[str, Any], now: datetime) -> Fact:
    """The case's status, timeline and why as the run ends: what the CLI reads once Temporal no longer holds it
    (sealed: a timeline's text can quote what an office typed)."""
    return {"kind": "PersonalNote", "case_id": state.case_id, "item": "views", "at": _iso(now), "sealed": views}


class Recorder:
    """What of the state is new since last asked; starts from the state it is given (a continued run's past
    was recorded before it continued)."""

    def __init__(self, state: CaseState | None, policy: Policy) -> None:
        self._policy = policy
        self._seen: set[str] = {_key(f) for f in from_state(state, policy)} if state is not None else set()
        self._stage = str(state.stage) if state is not None else None

    def changed(self, state: CaseState, now: datetime) -> list[Fact]:
        new = []
        if str(state.stage) != self._stage:
            self._stage = str(state.stage)
            new.append(stage(state, now))
        for fact in from_state(state, self._policy):
            key = _key(fact)
            if key not in self._seen:
                self._seen.add(key)
                new.append(fact)
        return new

    def rebase(self, state: CaseState) -> None:
        """Forget what the state no longer holds (after `limits.compact`): the set stays as small as the state."""
        self._seen = {_key(f) for f in from_state(state, self._policy)}


def _key(fact: Fact) -> str:
    return json.dumps(fact, sort_keys=True, default=str)


def _rule(policy: Policy, clock_id: str):
    try:
        return policy.clock(clock_id)
    except (KeyError, ValueError):
        return None


def _stage_at(s: CaseState) -> datetime:
    """When the case entered its stage: the newest stage line of its timeline, else when it opened."""
    for entry in reversed(s.timeline):
        if entry.kind == "stage" and str(s.stage) in entry.text:
            return entry.at
    return s.opened_at
