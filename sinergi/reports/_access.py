"""`report access CASE`: the victim's answer to "who has my data" (UU 27/2022 Art. 5 and 7).

Every time an office received or saw fields of the victim — a referral, a notice, the referral page unlocked,
the case's history decoded unmasked by an operator — with the field *names* (never a value), when, how, for what
purpose and under which mandate. It reads only `deliveries`, which holds no value of the victim.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel

from sinergi.records import _schema as t
from sinergi.reports._query import Bind, connected


class AccessRow(BaseModel):
    """One delivery (SPEC `report access --json`); for a decode, `office` is the operator or user."""

    office: str
    fields: list[str]
    at: datetime
    how: str
    purpose: str | None = None
    mandated_by: str | None = None


def access(bind: Bind, case_id: str) -> list[AccessRow]:
    """Who received or saw which fields of the case's victim, oldest first; with every decode of the case's
    history that showed its structure only (`how="decode_masked"`, no field: the victim's values were masked)."""
    d, a = t.deliveries, t.decode_audits
    query = (sa.select(d.c.office, d.c.fields, d.c.at, d.c.how, d.c.purpose, d.c.mandated_by)
             .where(d.c.case_id == case_id))
    masked = (sa.select(a.c.who, a.c.at, a.c.role).where(a.c.case_id == case_id, a.c.masked.is_(True)))
    with connected(bind) as conn:
        rows = [AccessRow(office=row.office, fields=list(row.fields), at=row.at, how=row.how, purpose=row.purpose,
                          mandated_by=row.mandated_by) for row in conn.execute(query)]
        rows += [AccessRow(office=row.who, fields=[], at=row.at, how="decode_masked", purpose=row.role)
                 for row in conn.execute(masked)]
    return sorted(rows, key=lambda row: (row.at, row.how, row.office))


def case_known(bind: Bind, case_id: str) -> bool:
    """Whether the record holds anything of the case (its opening, or any delivery of its data)."""
    with connected(bind) as conn:
        for table in (t.cases, t.deliveries):
            if conn.execute(sa.select(table.c.case_id).where(table.c.case_id == case_id).limit(1)).first():
                return True
    return False
