"""Exactly once: every fact has its own id, and writing it again — a replay, a retry after a killed worker, two
writers at once — never makes a second row."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta, timezone

import pytest
import sqlalchemy as sa
from record_kit import CASE, T0, at, count, facts_of_every_kind

from sinergi.records import CaseOpened, CaseRecord, DecodeAudited, EventApplied, StageChanged
from sinergi.records import _schema as t
from sinergi.testing.cases import intake

# Rows each fact of `facts_of_every_kind` makes: a page unlock and an unmasked decode are deliveries too.
EXPECTED = {"cases": 1, "stage_changes": 1, "events": 1, "referral_steps": 1, "deliveries": 3, "page_unlocks": 1,
            "notices": 1, "clock_events": 1, "manual_tasks": 1, "decode_audits": 1, "personal_items": 4,
            "case_keys": 1}


def test_each_kind_of_fact_written_twice_is_recorded_once(record):
    for fact in facts_of_every_kind():
        record.write([fact])
        record.write([fact])

    assert {table: count(record, table, CASE) for table in EXPECTED} == EXPECTED


def test_a_batch_written_again_says_every_fact_was_already_there(record):
    facts = facts_of_every_kind()

    first = record.write(facts)
    again = record.write(facts)

    rows = sum(n for table, n in EXPECTED.items() if table not in ("personal_items", "case_keys"))
    assert (first.written, first.duplicates) == (rows, 0)
    assert (again.written, again.duplicates) == (0, rows)


class WorkerKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


def test_a_write_killed_halfway_leaves_nothing_and_its_retry_records_everything_once(record, monkeypatch):
    facts = facts_of_every_kind()

    def killed(*_args):
        raise WorkerKilled  # after the report rows, before the sealed ones

    with monkeypatch.context() as patch:
        patch.setattr(record, "_seal", killed)
        with pytest.raises(WorkerKilled):
            record.write(facts)
    assert count(record, "events") == 0

    record.write(facts[:3])  # the retry races a replay that got only part of the way
    record.write(facts)

    assert {table: count(record, table, CASE) for table in EXPECTED} == EXPECTED


def test_concurrent_writers_of_the_same_facts_record_each_once(record_url, record, keys):
    writers = [CaseRecord.open(record_url, keys) for _ in range(6)]  # each its own engine, like processes
    start = threading.Barrier(len(writers))
    facts = facts_of_every_kind()

    def write(writer):
        start.wait()
        return writer.write(facts)

    try:
        with ThreadPoolExecutor(len(writers)) as pool:
            results = list(pool.map(write, writers))
    finally:
        for writer in writers:
            writer.close()

    assert {table: count(record, table, CASE) for table in EXPECTED} == EXPECTED
    assert sum(r.written for r in results) == sum(n for k, n in EXPECTED.items() if k not in ("personal_items",
                                                                                              "case_keys"))
    # Every writer sealed with the one key that was kept, so each personal item opens.
    assert len(record.personal(CASE)) == EXPECTED["personal_items"]


def test_the_same_instant_in_another_time_zone_is_the_same_fact(record):
    utc = EventApplied(case_id=CASE, sender="bp3mi_kalsel", event_id="e-7", type="referral.acknowledged",
                       occurred_at=T0, applied_at=T0)
    wita = utc.model_copy(update={"applied_at": T0.astimezone(timezone(timedelta(hours=8)))})

    record.write([utc])
    record.write([wita])

    assert count(record, "events") == 1


def test_the_case_stage_is_its_latest_whatever_order_the_facts_arrive_in(record):
    record.write([StageChanged(case_id=CASE, stage="closed", at=at(30), seq=2)])
    record.write([CaseOpened.from_intake(CASE, intake(), T0)])
    record.write([StageChanged(case_id=CASE, stage="protection", at=at(2), seq=1),
                  StageChanged(case_id=CASE, stage="reintegration", at=at(30), seq=1)])

    with record.engine.connect() as conn:
        case = conn.execute(sa.select(t.cases).where(t.cases.c.case_id == CASE)).one()
    assert (case.stage, case.stage_at, case.closed_at) == ("closed", at(30), at(30))


def test_a_case_with_no_stage_fact_is_in_identification_since_it_opened(record):
    record.write([CaseOpened.from_intake(CASE, intake(), T0)])

    with record.engine.connect() as conn:
        case = conn.execute(sa.select(t.cases).where(t.cases.c.case_id == CASE)).one()
    assert (case.stage, case.stage_at, case.closed_at) == ("identification", T0, None)


def test_a_masked_decode_is_audited_but_shares_no_field(record):
    record.write([DecodeAudited(case_id=CASE, audit_id="req-1", workflow_id=f"case-{CASE}", who="operator:ana",
                                role="support", masked=True, at=T0)])

    assert (count(record, "decode_audits"), count(record, "deliveries")) == (1, 0)
