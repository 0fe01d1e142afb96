"""Human renderings of case views: aligned tables, local times, colour only on a terminal."""

from __future__ import annotations

import click

from sinergi.console import local_time, state_colour, table
from sinergi.domain.views import CaseStatus


def status_text(s: CaseStatus) -> str:
    t = lambda v: local_time(v, s.province)  # noqa: E731
    head = [
        f"{click.style(s.case_id, bold=True)}  stage {click.style(s.stage, bold=True)}"
        + (f"  closed: {s.closure_reason}" if s.closed else ""),
        f"province {s.province}  regency {s.regency or '-'}  child {'yes' if s.is_child else 'no'}  "
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
