"""The case record (SPEC "The case record and reports"): what outlives Temporal's history of a case.

A database of sinergi's own — SQLite (`sqlite:///<path>`, the embedded default) or PostgreSQL — holding every
fact of every case exactly once: applied events, referral steps, deliveries of the victim's fields, page
unlocks, notices, clock changes, manual tasks, decode audits. Report-facing rows hold no personal data; the
personal part of a fact is sealed with its case's own data key, which `erase` destroys. docs/records.md
describes the schema.

    record = CaseRecord.from_settings(settings, migrate_schema=True)   # or CaseRecord.open(url, keys)
    await AsyncCaseRecord(record).write([CaseOpened.from_intake(case_id, intake, opened_at), ...])
"""

from sinergi.records._aio import AsyncCaseRecord
from sinergi.records._engine import create_engine, engine_url, records_url
from sinergi.records._errors import (
    KeyUnavailable,
    PersonalDataErased,
    RecordError,
    RecordUnavailable,
    SchemaOutOfDate,
    UnsupportedUrl,
)
from sinergi.records._facts import (
    FACT_KINDS,
    UNATTRIBUTED,
    CaseOpened,
    ClockChanged,
    DecodeAudited,
    Delivery,
    EventApplied,
    Fact,
    ManualTaskChanged,
    NoticeSent,
    PageUnlocked,
    PersonalNote,
    ReferralStep,
    StageChanged,
)
from sinergi.records._keys import CaseKeys
from sinergi.records._migrate import check_schema, head, migrate
from sinergi.records._operators import ROLES, Issued, Operator, OperatorError, Operators
from sinergi.records._store import ERASURE_BASIS, CaseRecord, Erased, Written

__all__ = [
    "ERASURE_BASIS",
    "FACT_KINDS",
    "AsyncCaseRecord",
    "CaseKeys",
    "CaseOpened",
    "CaseRecord",
    "ClockChanged",
    "DecodeAudited",
    "Delivery",
    "Erased",
    "EventApplied",
    "Fact",
    "KeyUnavailable",
    "ManualTaskChanged",
    "NoticeSent",
    "PageUnlocked",
    "PersonalDataErased",
    "PersonalNote",
    "RecordError",
    "RecordUnavailable",
    "ReferralStep",
    "SchemaOutOfDate",
    "StageChanged",
    "UnsupportedUrl",
    "Written",
    "ROLES",
    "UNATTRIBUTED",
    "Issued",
    "Operator",
    "OperatorError",
    "Operators",
    "check_schema",
    "create_engine",
    "engine_url",
    "head",
    "migrate",
    "records_url",
]
