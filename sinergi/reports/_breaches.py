"""`report breaches`: the deadlines missed in the period, by rule and the law behind it, and by month.

A `breach` is a statutory clock missed (a deadline the law sets); a `warning` an operational one (a service
standard or an agreed default). Each is one `clock_events` row of that change. Its escalations are the
`escalation` rows of the same clock of the same case, whenever they came: `highest_rung` is the highest rung of
the ladder any of them reached (0: none was escalated).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

import sqlalchemy as sa
from pydantic import BaseModel

from sinergi.records import _schema as t
from sinergi.reports._query import Bind, Scope, connected, month_of

MISSED = ("breach", "warning")


class BreachRow(BaseModel):
    """One rule's missed deadlines in the period (SPEC `report breaches --json`)."""

    clock: str
    source: str | None
    kind: str
    breaches: int
    cases: int
    offices: list[str]
    highest_rung: int


class BreachMonth(BaseModel):
    """How many deadlines of one rule were missed in one month (the chart)."""

    month: str
    clock: str
    source: str | None
    kind: str
    breaches: int


@dataclass(frozen=True)
class Breaches:
    rows: list[BreachRow]
    by_month: list[BreachMonth]


def breaches(bind: Bind, since: datetime | None = None, until: datetime | None = None, province: str | None = None,
             *, zone: tzinfo = UTC) -> Breaches:
    """The deadlines missed in [since, until) by cases of `province`: per rule (breaches first, most missed
    first), and per month in `zone`."""
    scope = Scope(since, until, province, zone=zone)
    ce = t.clock_events
    source, conditions = scope.of_province(ce)
    columns = (ce.c.case_id, ce.c.clock_id, ce.c.rule, ce.c.change, ce.c.at, ce.c.source, ce.c.office, ce.c.rung)
    missed_query = sa.select(*columns).select_from(source).where(ce.c.change.in_(MISSED), *conditions,
                                                                 *scope.within(ce.c.at))
    with connected(bind) as conn:
        missed = conn.execute(missed_query).all()
        clocks = {(row.case_id, row.clock_id) for row in missed}
        rungs: dict[tuple[str, str], int] = {}
        if clocks:
            ladder = sa.select(ce.c.case_id, ce.c.clock_id, sa.func.max(ce.c.rung)).select_from(source).where(
                ce.c.change == "escalation", ce.c.rung.is_not(None), *conditions).group_by(ce.c.case_id,
                                                                                            ce.c.clock_id)
            rungs = {(case_id, clock_id): rung for case_id, clock_id, rung in conn.execute(ladder)
                     if (case_id, clock_id) in clocks}
    groups: dict[tuple[str, str | None, str], list] = {}
    for row in missed:
        groups.setdefault((row.rule, row.source, row.change), []).append(row)
    rows = [
        BreachRow(clock=rule, source=law, kind=kind, breaches=len(found), cases=len({r.case_id for r in found}),
                  offices=sorted({r.office for r in found if r.office}),
                  highest_rung=max((max(rungs.get((r.case_id, r.clock_id), 0), r.rung or 0) for r in found),
                                   default=0))
        for (rule, law, kind), found in groups.items()
    ]
    rows.sort(key=lambda r: (r.kind != "breach", -r.breaches, r.clock, r.source or ""))
    by_month = Counter((month_of(r.at, scope.zone), r.rule, r.source, r.change) for r in missed)
    return Breaches(rows=rows, by_month=[
        BreachMonth(month=month, clock=rule, source=law, kind=kind, breaches=n)
        for (month, rule, law, kind), n in sorted(by_month.items(), key=lambda item: (item[0][0], item[0][1],
                                                                                       item[0][2] or ""))])
