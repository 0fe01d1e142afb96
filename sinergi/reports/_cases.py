"""`report cases`: how many victims are in which stage, where, month by month; by exploitation; children and adults.

For each month of the period, every case open at some point in it is counted once, in the stage it stood at
when the month (or the period) ended and under its regency: `opened` if it opened in that month, `closed` if it
closed in it, `open` if it was still open at its end, `children` if it is a child (under 18 at intake, or of
unknown age: the protection rule treats them as children). A case closed before the month is not counted.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

import sqlalchemy as sa
from pydantic import BaseModel

from sinergi.domain.case import Stage
from sinergi.records import _schema as t
from sinergi.reports._query import Bind, Scope, connected, month_start, months

STAGES = [str(s) for s in Stage]
NOT_RECORDED = "not_recorded"


class CaseRow(BaseModel):
    """Cases of one regency in one stage at the end of one month (SPEC `report cases --json`)."""

    period: str
    stage: str
    regency: str | None
    opened: int
    closed: int
    open: int
    children: int


class ExploitationRow(BaseModel):
    """Cases opened in the period with one form of exploitation (a case with several counts under each)."""

    exploitation: str
    cases: int
    children: int
    adults: int


class AgeGroupRow(BaseModel):
    """Children or adults: opened and closed in the period, and still open at its end."""

    group: str
    opened: int
    closed: int
    open: int


@dataclass(frozen=True)
class Cases:
    rows: list[CaseRow]
    exploitation: list[ExploitationRow]
    age_groups: list[AgeGroupRow]


@dataclass
class _Case:
    opened_at: datetime
    regency: str | None
    is_child: bool
    exploitation: list[str]
    changes: list[tuple[datetime, int, str]] = field(default_factory=list)  # (at, seq, stage), sorted

    def stage_before(self, end: datetime) -> str:
        """The stage the case stood at just before `end` (identification until a stage fact says otherwise)."""
        index = bisect.bisect_left(self.changes, (end,))
        return self.changes[index - 1][2] if index else "identification"

    def closed_at(self, end: datetime) -> datetime | None:
        """When it closed, if it stood closed just before `end`."""
        index = bisect.bisect_left(self.changes, (end,))
        if not index or self.changes[index - 1][2] != "closed":
            return None
        # The first `closed` of the run that ends the list: a case reopened and closed again closed last then.
        while index > 1 and self.changes[index - 2][2] == "closed":
            index -= 1
        return self.changes[index - 1][0]


def cases(bind: Bind, since: datetime | None = None, until: datetime | None = None, province: str | None = None,
          *, zone: tzinfo = UTC, now: datetime | None = None) -> Cases:
    """Cases of `province` month by month over [since, until) in `zone` (from the first case to now by default)."""
    scope = Scope(since, until, province, zone=zone, now=now or datetime.now(UTC))
    c, s = t.cases, t.stage_changes
    conditions = [c.c.province == province.upper()] if province else []
    if scope.until is not None:
        conditions.append(c.c.opened_at < scope.until)
    query = sa.select(c.c.case_id, c.c.opened_at, c.c.regency_name, c.c.regency_code, c.c.is_child,
                      c.c.exploitation).where(*conditions)
    changes = sa.select(s.c.case_id, s.c.at, s.c.seq, s.c.stage).select_from(
        s.join(c, s.c.case_id == c.c.case_id)).where(*conditions)
    with connected(bind) as conn:
        found = {row.case_id: _Case(row.opened_at, row.regency_name or row.regency_code, row.is_child,
                                    list(row.exploitation or [])) for row in conn.execute(query)}
        for row in conn.execute(changes):
            found[row.case_id].changes.append((row.at, row.seq, row.stage))
    for case in found.values():
        case.changes.sort()
    if not found:
        return Cases(rows=[], exploitation=[], age_groups=[])
    start = scope.since or month_start(min(case.opened_at for case in found.values()), zone)
    end = scope.until or scope.now
    return Cases(rows=_by_month(found.values(), start, end, zone), exploitation=_by_exploitation(found.values(), scope),
                 age_groups=_by_age_group(found.values(), start, end))


def _by_month(found, start: datetime, end: datetime, zone: tzinfo) -> list[CaseRow]:
    counts: dict[tuple[str, str, str | None], Counter] = {}
    for label, month_begins, month_ends in months(start, end, zone):
        for case in found:
            if case.opened_at >= month_ends:
                continue
            closed_at = case.closed_at(month_ends)
            if closed_at is not None and closed_at < month_begins:
                continue
            tally = counts.setdefault((label, case.stage_before(month_ends), case.regency),
                                      Counter(opened=0, closed=0, open=0, children=0))
            tally["opened"] += case.opened_at >= month_begins
            tally["closed"] += closed_at is not None
            tally["open"] += closed_at is None
            tally["children"] += case.is_child
    order = {stage: n for n, stage in enumerate(STAGES)}
    keys = sorted(counts, key=lambda k: (k[0], k[2] is None, k[2] or "", order.get(k[1], len(order)), k[1]))
    return [CaseRow(period=period, stage=stage, regency=regency, **counts[period, stage, regency])
            for period, stage, regency in keys]


def _by_exploitation(found, scope: Scope) -> list[ExploitationRow]:
    tally: dict[str, Counter] = {}
    for case in found:
        if not scope.contains(case.opened_at):
            continue
        for form in sorted(set(case.exploitation)) or [NOT_RECORDED]:
            counter = tally.setdefault(form, Counter())
            counter["cases"] += 1
            counter["children" if case.is_child else "adults"] += 1
    return sorted((ExploitationRow(exploitation=form, cases=n["cases"], children=n["children"], adults=n["adults"])
                   for form, n in tally.items()), key=lambda r: (-r.cases, r.exploitation))


def _by_age_group(found, start: datetime, end: datetime) -> list[AgeGroupRow]:
    tally: dict[str, Counter[str]] = {"child": Counter(), "adult": Counter()}
    for case in found:
        counter = tally["child" if case.is_child else "adult"]
        closed_at = case.closed_at(end)
        counter["opened"] += start <= case.opened_at < end
        counter["closed"] += closed_at is not None and closed_at >= start
        counter["open"] += closed_at is None and case.opened_at < end
    return [AgeGroupRow(group=group, opened=n["opened"], closed=n["closed"], open=n["open"])
            for group, n in tally.items()]
