"""Human renderings of case views: aligned tables, local times, colour only on a terminal."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

import click

from sinergi.commands.console import local_time, state_colour, table

if TYPE_CHECKING:
    from sinergi.domain.views import CaseStatus, CaseTimeline, CaseWhy


def status_text(s: CaseStatus) -> str:
    from sinergi.domain import places  # stdlib only: places are read by name, with their code

    t = lambda v: local_time(v, s.province)  # noqa: E731 - a one-line formatter, read beside its use
    head = [
        f"{click.style(s.case_id, bold=True)}  stage {click.style(s.stage, bold=True)}"
        + (f"  closed: {s.closure_reason}" if s.closed else ""),
        f"province {s.province}  regency {places.label(s.regency, s.province)}  "
        f"child {'yes' if s.is_child else 'no'}  "
        f"opened {t(s.opened_at)}",
        "consent  " + "  ".join(f"{k} {'yes' if v else 'NO'}" for k, v in s.consent.model_dump().items()),
    ]
    if s.flags:
        head.append("flags    " + ", ".join(s.flags))
    parts = ["\n".join(head)]
    if s.referrals:
        parts.append("REFERRALS\n" + table(
            ["id", "agency", "service", "status", "due"],
            [[r.referral_id, r.agency, r.service, state_colour(r.status), t(r.due_at)] for r in s.referrals]))
    live = [c for c in s.clocks if c.state in ("running", "paused", "breached")]
    if live:
        parts.append("CLOCKS\n" + table(
            ["clock", "what", "source", "due", "state"],
            [[c.id, c.title + (f" ({c.context})" if c.context else ""), c.source, t(c.due_at), state_colour(c.state)]
             for c in live]))
    if s.breaches:
        parts.append("BREACHES\n" + table(["clock", "kind", "source", "at"],
                                          [[b.clock, b.kind, b.source, t(b.at)] for b in s.breaches]))
    if s.escalations:
        parts.append("ESCALATIONS\n" + table(["clock", "rung", "to", "at"],
                                             [[e.clock, e.rung, f"{e.role} ({e.agency})", t(e.at)]
                                              for e in s.escalations]))
    if s.manual_tasks:
        parts.append("MANUAL TASKS\n" + table(["id", "agency", "what to do"],
                                              [[m.id, m.agency, m.reason] for m in s.manual_tasks]))
    return "\n\n".join(parts)


# Entries may carry times in their text (`started, due 2026-11-30T22:14:53+00:00`): shown in the case's zone too.
_ISO_TIME = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)")


def _local_times_in(text: str, province: str) -> str:
    def local(match: re.Match[str]) -> str:
        try:
            return local_time(datetime.fromisoformat(match.group(0)), province)
        except ValueError:
            return match.group(0)

    return _ISO_TIME.sub(local, text)


def timeline_text(t: CaseTimeline, province: str) -> str:
    return table(["at", "what", "entry"],
                 [[local_time(e.at, province), e.kind, _local_times_in(e.text, province)] for e in t.entries])


def why_text(w: CaseWhy, province: str) -> str:
    case_id = click.style(w.case_id, bold=True)
    lines = [f"{case_id} is closed" if w.closed
             else f"{case_id} is in {w.stage}"]
    lines.append(f"Lead office: {w.lead_office or 'none yet (operators decide)'}")
    if w.at_size_limit:
        lines.append(click.style("The case has reached its size limit: it takes events from operators only.",
                                 fg="red"))
    lines.append("\nWaiting on:")
    lines += [f"  - {item}" for item in w.waiting_on] or ["  nothing: the case is not waiting on anyone"]
    if w.next_deadline:
        d = w.next_deadline
        kind = "statutory deadline" if d.kind == "statutory" else "service standard"
        overdue = click.style(" — MISSED", fg="red", bold=True) if d.state == "breached" else ""
        lines.append(f"\nNext deadline: {d.clock}, {d.title}, due {local_time(d.due_at, province)}{overdue}")
        lines.append(f"  a {kind} set by {d.source}" + (f"; owed by {d.responsible}" if d.responsible else ""))
    if w.last_error:
        lines.append(f"\nLast delivery error: {click.style(w.last_error, fg='red')}")
    if w.open_manual_tasks:
        lines.append("\nManual tasks for you:")
        lines += [f"  - {t.id} ({t.agency}): {t.reason}" for t in w.open_manual_tasks]
    lines += _accepted_text(w.accepted_events)
    return "\n".join(lines)


def _accepted_text(accepted: list[str]) -> list[str]:
    """The events accepted now, each with the data it needs (`sinergi events TYPE` says the rest)."""
    from sinergi.commands.event_catalog import field_summary, required_fields

    if not accepted:
        return ["\nEvents accepted now: none"]
    rows = []
    for event_type in accepted:
        needed = ", ".join(field_summary(f) for f in required_fields(event_type))
        rows.append([event_type, needed or "-"])
    return ["\nEvents accepted now:", table(["event", "required data"], rows),
            "(`sinergi events TYPE`: every field, allowed value and who may send it)"]


def why_json(w: CaseWhy) -> dict:
    """`case why --json`: the view, and the data each event accepted now requires (`accepted_now`)."""
    from sinergi.commands.event_catalog import required_fields

    return {**w.model_dump(mode="json"),
            "accepted_now": [{"type": t, "required": [f.model_dump() for f in required_fields(t)]}
                             for t in w.accepted_events]}


def list_text(rows) -> str:
    from sinergi.domain import places

    return table(["case", "stage", "province", "regency", "opened", "escalated", "open"],
                 [[r.case_id, r.stage, r.province, places.label(r.regency, r.province),
                   local_time(r.opened_at, r.province), "yes" if r.escalated else "", "yes" if r.open else "no"]
                  for r in rows])
