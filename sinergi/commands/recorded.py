"""What the CLI reads from the case record once Temporal no longer holds a case (SPEC "The case record and
reports"): its last status, timeline and why, kept sealed by the worker as the case's run ended, and the closed
cases the namespace's retention has deleted (`case list --closed`).

Opened only when Temporal says the case is not there; never creates a database (a record that does not exist
holds no case). Reading the sealed views needs the codec keys, as reading the history did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sinergi.platform.config import Settings

VIEWS_ITEM = "/note/views"


def _record(settings: Settings, *, sealed: bool):
    from sinergi.records import CaseKeys, CaseRecord, records_url

    url = records_url(settings)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None
    keys = CaseKeys.from_settings(settings.codec) if sealed else None
    return CaseRecord.open(url, keys)


def recorded_views(settings: Settings, case_id: str) -> dict[str, Any] | None:
    """The case's last status, timeline and why as JSON, or None when the record does not hold them."""
    from sinergi.records import PersonalDataErased, RecordError

    record = _record(settings, sealed=True)
    if record is None:
        return None
    try:
        personal = record.personal(case_id)
    except PersonalDataErased:
        return None
    except RecordError:
        return None
    finally:
        record.close()
    return next((v for k, v in personal.items() if k.endswith(VIEWS_ITEM)), None)


def recorded_closed_cases(settings: Settings, province: str | None, limit: int) -> list[dict[str, Any]]:
    """Closed cases in the record (newest first): what `case list --closed` adds for cases Temporal deleted."""
    import sqlalchemy as sa

    record = _record(settings, sealed=False)
    if record is None:
        return []
    try:
        with record.engine.connect() as conn:
            cases = sa.Table("cases", sa.MetaData(), autoload_with=conn)
            clocks = sa.Table("clock_events", sa.MetaData(), autoload_with=conn)
            escalated = sa.exists().where(clocks.c.case_id == cases.c.case_id, clocks.c.change == "escalation")
            query = sa.select(cases, escalated.label("escalated")).where(cases.c.stage == "closed")
            if province:
                query = query.where(cases.c.province == province)
            rows = conn.execute(query.order_by(cases.c.opened_at.desc()).limit(limit)).mappings().all()
    finally:
        record.close()
    return [{"case_id": r["case_id"], "stage": "closed", "province": r["province"], "regency": r["regency_name"],
             "opened_at": r["opened_at"], "escalated": bool(r["escalated"]), "open": False} for r in rows]
