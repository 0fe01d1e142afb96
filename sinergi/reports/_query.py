"""What every report shares: a connection to the record, its period and place, months in a zone, percentiles.

Reports read only the report-facing tables of the case record (`sinergi.records._schema`): never
`personal_items` nor `case_keys`. Each query selects the few columns it needs, filtered in SQL by time and
province, and the counting is done here in Python: the same code on SQLite and PostgreSQL, and months taken in
the deployment's zone rather than in the database's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import sqlalchemy as sa

from sinergi.records import RecordError, RecordUnavailable
from sinergi.records import _schema as t

Bind = sa.Engine | sa.Connection


@contextmanager
def connected(bind: Bind) -> Iterator[sa.Connection]:
    """A connection for reading: `bind` itself, or a new one from an engine; database errors as `RecordError`s."""
    try:
        if isinstance(bind, sa.Engine):
            with bind.connect() as conn:
                yield conn
        else:
            yield bind
    except sa.exc.OperationalError as exc:
        raise RecordUnavailable(f"the case record is unavailable: {exc.orig}") from exc
    except sa.exc.DBAPIError as exc:
        raise RecordError(f"the case record refused the query: {exc.orig}") from exc


@dataclass(frozen=True)
class Scope:
    """Which facts a report counts: those in [since, until) of cases opened in `province` (None: every one).

    `zone` is where months begin and end; `now` is when the report is made (what "already late" is measured
    against when nothing was answered).
    """

    since: datetime | None = None
    until: datetime | None = None
    province: str | None = None
    zone: tzinfo = UTC
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        for name in ("since", "until", "now"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} must be an aware datetime")

    @property
    def as_of(self) -> datetime:
        """The end of what the report can see: `until` if it is already past, else now."""
        return min(self.until, self.now) if self.until is not None else self.now

    def contains(self, at: datetime) -> bool:
        return (self.since is None or at >= self.since) and (self.until is None or at < self.until)

    def within(self, column: sa.ColumnElement[Any]) -> list[sa.ColumnElement[bool]]:
        """SQL conditions: `column` in [since, until)."""
        conditions = []
        if self.since is not None:
            conditions.append(column >= self.since)
        if self.until is not None:
            conditions.append(column < self.until)
        return conditions

    def of_province(self, table: sa.Table) -> tuple[sa.FromClause, list[sa.ColumnElement[bool]]]:
        """`table` joined to its case when a province is asked for (a fact belongs to its case's province)."""
        if self.province is None:
            return table, []
        return (table.join(t.cases, table.c.case_id == t.cases.c.case_id),
                [t.cases.c.province == self.province.upper()])


def month_of(at: datetime, zone: tzinfo) -> str:
    """`2026-11`: the month `at` falls in, in `zone`."""
    return f"{at.astimezone(zone):%Y-%m}"


def month_start(at: datetime, zone: tzinfo) -> datetime:
    local = at.astimezone(zone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(start: datetime) -> datetime:
    return (start + timedelta(days=32)).replace(day=1)


def months(since: datetime, until: datetime, zone: tzinfo) -> list[tuple[str, datetime, datetime]]:
    """The months from `since` to `until` in `zone`: (label, start, end), the first and last cut to the range."""
    out = []
    start = month_start(since, zone)
    while start < until:
        end = next_month(start)
        out.append((f"{start:%Y-%m}", max(start, since), min(end, until)))
        start = end
    return out


def percentile(values: list[float], q: float) -> float | None:
    """The q-th quantile (0..1) by linear interpolation between closest ranks (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 2)


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600
