"""The reports of the case record and the CTDC export (SPEC "The case record and reports").

Pure queries over the record's report-facing tables — never its sealed personal data — on SQLite and
PostgreSQL alike, each taking an engine or a connection:

    offices(bind, since, until, province)      how each office answers referrals, and how late
    breaches(bind, since, until, province)     deadlines missed by rule and law, and by month
    cases(bind, since, until, province)        cases by month, stage and regency; by exploitation; children
    access(bind, case_id)                      who received or saw which fields of the victim, when, how
    ctdc(bind, k=11)                           one de-identified, k-anonymous row per case for CTDC / HTCDS

`collect` gathers a report's tables and `render.render` writes them as table, json, csv, xlsx or html.
docs/reports.md says what each answers and how.
"""

from sinergi.reports._access import AccessRow, access, case_known
from sinergi.reports._breaches import Breaches, BreachMonth, BreachRow, breaches
from sinergi.reports._cases import AgeGroupRow, CaseRow, Cases, ExploitationRow, cases
from sinergi.reports._ctdc import DEFAULT_K, QUASI_IDENTIFIERS, CtdcExport, ctdc
from sinergi.reports._offices import OfficeRow, offices
from sinergi.reports._query import Scope
from sinergi.reports._report import Report, Section, collect, collect_access

__all__ = [
    "DEFAULT_K",
    "QUASI_IDENTIFIERS",
    "AccessRow",
    "AgeGroupRow",
    "BreachMonth",
    "BreachRow",
    "Breaches",
    "CaseRow",
    "Cases",
    "CtdcExport",
    "ExploitationRow",
    "OfficeRow",
    "Report",
    "Scope",
    "Section",
    "access",
    "breaches",
    "case_known",
    "cases",
    "collect",
    "collect_access",
    "ctdc",
    "offices",
]
