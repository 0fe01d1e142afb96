"""`export ctdc`: one row per case for IOM's Counter Trafficking Data Collaborative, HTCDS-aligned and k-anonymous.

Columns take the CTDC Global Dataset's names and values, mapped from the intake's vocabulary (docs/reports.md
lists the mapping). No identifier leaves: no case id, no date (the year only), no regency, no office, no name.

k-anonymity on the quasi-identifiers — what someone who knows the victim could know (year, gender, age,
citizenship, country of exploitation, whether a migrant worker): every combination of their values in the export
is shared by at least k rows. Each quasi-identifier has a ladder of coarser values (age band -> wider band ->
minor/adult; country -> sub-region -> Indonesia/abroad; year -> five years). Every combination of rungs is tried
(a few dozen), rows still in groups smaller than k are suppressed, and the combination that loses least is kept:
a suppressed row loses all its quasi-identifier cells, a generalised cell the share of its ladder it climbed
(Iyengar's loss metric). Ties go to the lower rungs.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from sinergi.records import _schema as t
from sinergi.reports._query import Bind, connected
from sinergi.reports._regions import sub_region

DEFAULT_K = 11
HOME = "ID"

# The intake's `situation.exploitation` ids -> CTDC indicator column and its words in the concatenated column.
EXPLOITATION = {
    "forced_labour": ("isForcedLabour", "Forced labour"),
    "sexual_exploitation": ("isSexualExploit", "Sexual exploitation"),
    "forced_marriage": ("isForcedMarriage", "Forced marriage"),
    "forced_military": ("isForcedMilitary", "Forced military"),
    "organ_removal": ("isOrganRemoval", "Organ removal"),
    "slavery_and_practices": ("isSlaveryAndPractices", "Slavery and similar practices"),
    "other": ("isOtherExploit", "Other"),
}
# The intake's `situation.means_of_control` ids -> the CTDC `meansOfControl...` column's suffix.
MEANS_OF_CONTROL = {
    "debt_bondage": "DebtBondage", "takes_earnings": "TakesEarnings",
    "restricts_financial_access": "RestrictsFinancialAccess", "threats": "Threats",
    "psychological_abuse": "PsychologicalAbuse", "physical_abuse": "PhysicalAbuse", "sexual_abuse": "SexualAbuse",
    "false_promises": "FalsePromises", "psychoactive_substances": "PsychoactiveSubstances",
    "restricts_movement": "RestrictsMovement", "restricts_medical_care": "RestrictsMedicalCare",
    "excessive_working_hours": "ExcessiveWorkingHours", "uses_children": "UsesChildren",
    "threat_of_law_enforcement": "ThreatOfLawEnforcement", "withholds_necessities": "WithholdsNecessities",
    "withholds_documents": "WithholdsDocuments", "other": "Other",
}
GENDERS = {"F": "Female", "M": "Male", "X": "Transgender/NonConforming"}
AGE_BANDS = [(8, "0--8"), (17, "9--17"), (20, "18--20"), (23, "21--23"), (26, "24--26"), (29, "27--29"),
             (38, "30--38"), (47, "39--47")]
WIDE_AGE_BANDS = [(17, "0--17"), (29, "18--29"), (47, "30--47")]


def _band(age: int | None, bands: list[tuple[int, str]], last: str) -> str:
    if age is None:
        return ""
    return next((label for upto, label in bands if age <= upto), last)


def _place(code: str | None, level: int, elsewhere: str) -> str:
    if not code:
        return ""
    if level == 0 or code == HOME:
        return code
    return sub_region(code) if level == 1 else elsewhere


@dataclass(frozen=True)
class Ladder:
    """A quasi-identifier: its column, the name of each rung, and its value on a rung from the case's row."""

    column: str
    rungs: tuple[str, ...]
    value: Callable[[Any, int], str]


LADDERS = (
    Ladder("yearOfRegistration", ("year", "five years"),
           lambda r, n: str(r.year) if n == 0 else f"{r.year // 5 * 5}-{r.year // 5 * 5 + 4}"),
    Ladder("gender", ("gender",), lambda r, n: GENDERS.get(r.gender or "", "")),
    Ladder("ageBroad", ("CTDC age band", "wide age band", "minor or adult"),
           lambda r, n: [_band(r.age_at_intake, AGE_BANDS, "48+"), _band(r.age_at_intake, WIDE_AGE_BANDS, "48+"),
                         _band(r.age_at_intake, [(17, "0--17")], "18+")][n]),
    Ladder("citizenship", ("country", "sub-region", "Indonesian or foreign"),
           lambda r, n: _place(r.citizenship, n, "foreign")),
    Ladder("CountryOfExploitation", ("country", "sub-region", "Indonesia or abroad"),
           lambda r, n: _place(r.country_of_exploitation, n, "abroad")),
    Ladder("isPMI", ("migrant worker",), lambda r, n: _flag(r.is_pmi)),
)
QUASI_IDENTIFIERS = tuple(ladder.column for ladder in LADDERS)
# The intake's recruiter relation (`situation.recruiter_relation`) -> its HTCDS column.
RECRUITER_RELATIONS = {
    "intimate_partner": "recruiterRelationIntimatePartner", "friend": "recruiterRelationFriend",
    "family": "recruiterRelationFamily", "other": "recruiterRelationOther", "unknown": "recruiterRelationUnknown",
}
COLUMNS = [
    "yearOfRegistration", "gender", "ageBroad", "majorityStatus", "citizenship", "CountryOfExploitation", "isPMI",
    "isProcedural", "typeOfExploitConcatenated", *sorted({column for column, _ in EXPLOITATION.values()}),
    "isSexAndLabour", "meansOfControlConcatenated",
    *(f"meansOfControl{suffix}" for suffix in MEANS_OF_CONTROL.values()), "meansOfControlNotSpecified",
    *RECRUITER_RELATIONS.values(),
]


@dataclass(frozen=True)
class CtdcExport:
    """The export: its rows, and what protecting them cost."""

    columns: list[str]
    rows: list[dict[str, str]]
    k: int
    quasi_identifiers: list[str]
    rungs: dict[str, str]  # quasi-identifier -> the rung its values were taken at
    generalised_cells: int  # cells of the exported rows coarser than the CTDC value (a band, a country)
    suppressed_rows: int
    unmapped: dict[str, int]  # intake values with no HTCDS counterpart, exported as "other"

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()


def ctdc(bind: Bind, k: int = DEFAULT_K) -> CtdcExport:
    """Every recorded case as one de-identified row; every quasi-identifier combination shared by >= k rows."""
    if k < 2:
        raise ValueError("k must be at least 2: k = 1 protects no one")
    c = t.cases
    query = sa.select(c.c.year, c.c.gender, c.c.age_at_intake, c.c.citizenship, c.c.country_of_exploitation,
                      c.c.is_pmi, c.c.procedural, c.c.exploitation, c.c.means_of_control,
                      c.c.recruiter_relation).order_by(c.c.case_id)
    with connected(bind) as conn:
        cases = conn.execute(query).all()
    unmapped: Counter[str] = Counter()
    attributes = [_attributes(case, unmapped) for case in cases]
    # Each case's quasi-identifier values on every rung of every ladder.
    ladder_values = [[tuple(ladder.value(case, n) for n in range(len(ladder.rungs))) for ladder in LADDERS]
                     for case in cases]
    node = _least_loss(ladder_values, k)
    keys = [tuple(values[node[q]] for q, values in enumerate(per_case)) for per_case in ladder_values]
    sizes = Counter(keys)
    rows, generalised = [], 0
    for case, per_case, key, attrs in zip(cases, ladder_values, keys, attributes, strict=True):
        if sizes[key] < k:
            continue
        generalised += sum(value != per_case[q][0] for q, value in enumerate(key))
        row = dict(zip(QUASI_IDENTIFIERS, key, strict=True))
        row["majorityStatus"] = "" if case.age_at_intake is None else (
            "Minor" if case.age_at_intake < 18 else "Adult")
        rows.append(row | attrs)
    # Sorted by value: the order of the rows must not give away the order cases were opened in.
    rows.sort(key=lambda r: tuple(r[column] for column in COLUMNS))
    return CtdcExport(columns=COLUMNS, rows=rows, k=k, quasi_identifiers=list(QUASI_IDENTIFIERS),
                      rungs={ladder.column: ladder.rungs[n] for ladder, n in zip(LADDERS, node, strict=True)},
                      generalised_cells=generalised, suppressed_rows=len(cases) - len(rows), unmapped=dict(unmapped))


def _least_loss(ladder_values: list[list[tuple[str, ...]]], k: int) -> tuple[int, ...]:
    """The rung of each ladder that, once the groups still smaller than k are suppressed, loses least."""
    # Distinct cases on the lowest rungs, with how many share them: every rung is a function of those.
    distinct = Counter(tuple(per_case) for per_case in ladder_values)
    width = len(LADDERS)
    best: tuple[float, int, tuple[int, ...]] | None = None
    for node in itertools.product(*(range(len(ladder.rungs)) for ladder in LADDERS)):
        groups: Counter[tuple[str, ...]] = Counter()
        for values, n in distinct.items():
            groups[tuple(values[q][node[q]] for q in range(width))] += n
        loss = 0.0
        for values, n in distinct.items():
            key = tuple(values[q][node[q]] for q in range(width))
            if groups[key] < k:
                loss += n * width  # suppressed: every quasi-identifier cell of the row is lost
            else:
                loss += n * sum(node[q] / len(LADDERS[q].rungs) for q in range(width) if key[q] != values[q][0])
        candidate = (round(loss, 9), sum(node), node)
        if best is None or candidate < best:
            best = candidate
    assert best is not None
    return best[2]


def _attributes(case: Any, unmapped: Counter[str]) -> dict[str, str]:
    """The columns that are not quasi-identifiers: procedural, forms of exploitation, means of control."""
    row = {column: "0" for column in COLUMNS if column.startswith(("is", "meansOfControl", "recruiterRelation"))}
    # Not asked at intake (older cases), or asked and not known: HTCDS's "unknown".
    row |= {"isProcedural": _flag(case.procedural),
            RECRUITER_RELATIONS.get(case.recruiter_relation or "unknown", "recruiterRelationUnknown"): "1"}
    forms = []
    for value in sorted(set(case.exploitation or [])):
        if value not in EXPLOITATION:
            unmapped[f"exploitation:{value}"] += 1
        column, words = EXPLOITATION.get(value, EXPLOITATION["other"])
        row[column] = "1"
        forms.append(words)
    row["isSexAndLabour"] = _flag(row["isForcedLabour"] == "1" and row["isSexualExploit"] == "1")
    means = []
    for value in sorted(set(case.means_of_control or [])):
        if value not in MEANS_OF_CONTROL:
            unmapped[f"means_of_control:{value}"] += 1
        suffix = MEANS_OF_CONTROL.get(value, "Other")
        row[f"meansOfControl{suffix}"] = "1"
        means.append(value if value in MEANS_OF_CONTROL else "other")
    row["meansOfControlNotSpecified"] = _flag(not means)
    row["typeOfExploitConcatenated"] = "; ".join(sorted(set(forms)))
    row["meansOfControlConcatenated"] = "; ".join(sorted({m.replace("_", " ").capitalize() for m in means}))
    del row["isPMI"]  # a quasi-identifier: set from its ladder
    return row


def _flag(value: bool | None) -> str:
    return "" if value is None else ("1" if value else "0")
