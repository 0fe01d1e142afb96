"""Facts of every kind for one case, as the worker would write them, with the sample intake's person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from sinergi.records import (
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
from sinergi.testing.cases import SAMPLE_NAME, SAMPLE_PHONE, intake

CASE = "KALSEL-2026-7Q2M9XKD"
T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
NOTE = f"{SAMPLE_NAME} asked that her mother not be told"
# What must never be found in the database outside ciphertext.
SECRETS = (SAMPLE_NAME, SAMPLE_PHONE, "2001-03-14", "Rumah Aman Banjarbaru", NOTE)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def facts_of_every_kind(case_id: str = CASE) -> list[Fact]:
    """One fact of each kind; several carry personal content in `sealed`."""
    return [
        CaseOpened.from_intake(case_id, intake(), T0, rules_version=4),
        StageChanged(case_id=case_id, stage="protection", at=at(2)),
        EventApplied(case_id=case_id, sender="uptd_ppa_kalsel", event_id="evt-1",
                     type="protection.shelter_admitted", occurred_at=at(1), applied_at=at(1.5),
                     sealed={"data": {"facility": "Rumah Aman Banjarbaru"}}),
        ReferralStep(case_id=case_id, referral_id=f"{case_id}-R001", service="screening", kind="uptd_ppa",
                     office="uptd_ppa_kalsel", state="sent", at=at(0.1), due_at=at(24.1)),
        Delivery(case_id=case_id, office="uptd_ppa_kalsel", fields=["person.full_name", "person.phone"], at=at(0.1),
                 how="referral", ref=f"{case_id}-R001", purpose="screening"),
        PageUnlocked(case_id=case_id, referral_id=f"{case_id}-R002", office="dinsos_kalsel",
                     fields=["person.full_name"], at=at(3)),
        NoticeSent(case_id=case_id, notice_id=f"{case_id}-N003", purpose="escalation", office="dinsos_kalsel",
                   province="KALSEL", clock="S3", source="Permensos 2023 Art. 9", rung=1, at=at(25)),
        ClockChanged(case_id=case_id, clock_id="S3-1", rule="S3", change="breach", at=at(24.1),
                     source="Permensos 2023 Art. 9", office="uptd_ppa_kalsel"),
        ManualTaskChanged(case_id=case_id, task_id="task-1", state="opened", agency="dinsos_kalsel", at=at(4),
                          sealed={"reason": f"call {SAMPLE_NAME} at {SAMPLE_PHONE}"}),
        DecodeAudited(case_id=case_id, audit_id="req-9", workflow_id=f"case-{case_id}", who="operator:ana",
                      role="case_manager", masked=False, fields=["person.full_name"], at=at(5)),
        PersonalNote(case_id=case_id, item="note-1", at=at(6), sealed={"text": NOTE}),
    ]


def count(record, table: str, case_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(sa.table(table))
    if case_id is not None:
        query = query.where(sa.column("case_id") == case_id)
    with record.engine.connect() as conn:
        return conn.execute(query).scalar_one()


def all_rows(record) -> list[str]:
    """Every row of every table, as text (bytes columns included, as their repr)."""
    out: list[str] = []
    with record.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            out.extend(repr(tuple(row)) for row in conn.execute(sa.select(sa.text("*")).select_from(sa.table(table))))
    return out
