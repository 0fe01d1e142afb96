"""A report ready to render: its tables (sections), in order, and the scope they were counted over.

The first section is the report's own table, what `--json` and `csv` give in SPEC's shape; the others are its
breakdowns (breaches by month; cases by exploitation, children and adults). The coordination meeting's page
(`--format html`) holds the three reports — offices, breaches, cases — with the one asked for first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel

from sinergi.reports._access import access
from sinergi.reports._breaches import breaches
from sinergi.reports._cases import cases
from sinergi.reports._offices import offices
from sinergi.reports._query import Bind, Scope

Kind = Literal["offices", "breaches", "cases", "access"]
MEETING: tuple[Kind, ...] = ("offices", "breaches", "cases")


@dataclass(frozen=True)
class Section:
    """One table: `name` says which (`offices`, `breaches`, `breaches_by_month`, `cases`, `exploitation`,
    `age_groups`, `access`) and so its title and column words."""

    name: str
    rows: list[BaseModel]


@dataclass(frozen=True)
class Report:
    kind: Kind
    sections: list[Section]
    scope: Scope
    case_id: str | None = None  # `access` only

    @property
    def main(self) -> Section:
        return self.sections[0]


def collect(bind: Bind, kind: Kind, scope: Scope, *, committed: Mapping[str, timedelta] | None = None,
            meeting: bool = False) -> Report:
    """The report `kind` over `scope`; `meeting`: followed by the other two of the meeting's reports."""
    kinds = [kind, *(other for other in MEETING if other != kind)] if meeting else [kind]
    sections: list[Section] = []
    for one in kinds:
        if one == "offices":
            sections.append(Section("offices", list(offices(bind, scope.since, scope.until, scope.province,
                                                            committed=committed, now=scope.now))))
        elif one == "breaches":
            found = breaches(bind, scope.since, scope.until, scope.province, zone=scope.zone)
            sections += [Section("breaches", list(found.rows)), Section("breaches_by_month", list(found.by_month))]
        elif one == "cases":
            found_cases = cases(bind, scope.since, scope.until, scope.province, zone=scope.zone, now=scope.now)
            sections += [Section("cases", list(found_cases.rows)),
                         Section("exploitation", list(found_cases.exploitation)),
                         Section("age_groups", list(found_cases.age_groups))]
        else:
            raise ValueError(f"not a period report: {one!r}")
    return Report(kind=kind, sections=sections, scope=scope)


def collect_access(bind: Bind, case_id: str, scope: Scope) -> Report:
    return Report(kind="access", sections=[Section("access", list(access(bind, case_id)))], scope=scope,
                  case_id=case_id)
