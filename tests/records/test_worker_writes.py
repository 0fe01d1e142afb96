"""The worker writes the case record as the case moves, through the real workflow (time-skipping server), on
SQLite and PostgreSQL: every fact once, even when every workflow task replays the whole history (no cache),
and the case's last views kept for when Temporal no longer holds it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from sinergi.domain.ids import workflow_id
from sinergi.records import AsyncCaseRecord
from sinergi.testing.cases import SAMPLE_NAME, SAMPLE_PHONE, harness
from sinergi.testing.record import full_lifecycle_abroad

pytestmark = pytest.mark.asyncio(loop_scope="session")


def rows(record, table: str, case_id: str) -> list[dict]:
    with record.engine.connect() as conn:
        t = sa.Table(table, sa.MetaData(), autoload_with=conn)
        return [dict(r._mapping) for r in conn.execute(sa.select(t).where(t.c.case_id == case_id))]


async def sent_referral(h, case_id: str):
    """The case's first referral sent to an office, once routing and delivery have done so."""
    from sinergi.testing.waiting import eventually

    async def routed():
        status = await h.cases.status(case_id)
        sent = [r for r in status.referrals if r.agency and r.status == "sent"]
        assert sent
        return sent[0]

    return await eventually(routed)


async def test_a_case_driven_to_its_end_is_in_the_record_each_fact_once(skipping_env, record):
    await drive_and_check(skipping_env, record)


async def test_a_case_replayed_on_every_task_still_writes_each_fact_once(skipping_env, tmp_path, keys):
    # Every workflow task replays the whole history, as after evictions and restarts: the record is told the
    # same facts again and again, and keeps each once. (SQLite only: how a fact is kept once is the same
    # statement on both databases, tested on both above and in test_exactly_once.) The same lifecycle, its
    # events sent four at a time: still every stage, breaches, notices and several record batches, in half the
    # workflow tasks (each replaying the whole history: the cost grows with their square).
    from sinergi.records import CaseRecord

    record = CaseRecord.open(f"sqlite:///{tmp_path / 'records.db'}", keys, migrate_schema=True)
    try:
        await drive_and_check(skipping_env, record, pace=4, max_cached_workflows=0)
    finally:
        record.close()


async def drive_and_check(skipping_env, record, pace: int = 1, **options) -> None:
    async with harness(skipping_env.client, record=AsyncCaseRecord(record), **options) as h:
        case_id = await full_lifecycle_abroad(h, skipping_env, pace=pace)
        await skipping_env.client.get_workflow_handle(workflow_id(case_id)).result()
        status = await h.cases.status(case_id)

    [case] = rows(record, "cases", case_id)
    assert case["stage"] == "closed" and case["province"] == "KALSEL" and case["is_pmi"] is True
    events = rows(record, "events", case_id)
    # Every event the case applied, once: the history's updates that were not duplicates.
    assert len(events) == len({(e["sender"], e["event_id"]) for e in events}) >= 10
    steps = rows(record, "referral_steps", case_id)
    by_referral = Counter((s["referral_id"], s["state"]) for s in steps)
    assert max(by_referral.values()) == 1, by_referral
    for referral in status.referrals:
        assert (referral.referral_id, "created") in by_referral
        if referral.status == "completed":
            assert (referral.referral_id, "completed") in by_referral
    deliveries = rows(record, "deliveries", case_id)
    assert deliveries and all(d["how"] in ("referral", "notice", "page") for d in deliveries)
    assert {d["office"] for d in deliveries} >= {r.agency for r in status.referrals if r.status == "completed"}
    stages = [s["stage"] for s in sorted(rows(record, "stage_changes", case_id), key=lambda s: (s["at"], s["seq"]))]
    assert stages[0] == "identification" and stages[-1] == "closed"
    assert len(stages) == len(set(stages))
    # Nothing personal in the report tables: the person is sealed with the case's key.
    with record.engine.connect() as conn:
        for table in ("cases", "events", "referral_steps", "deliveries", "stage_changes", "clock_events"):
            dumped = str([tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))])
            assert SAMPLE_NAME not in dumped and SAMPLE_PHONE not in dumped, table
    # The views the CLI reads once the history is gone, sealed.
    personal = record.personal(case_id)
    [views] = [v for k, v in personal.items() if k.endswith("/note/views")]
    assert views["status"]["stage"] == "closed" and views["timeline"]["entries"]
    assert record.intake(case_id).person.full_name == SAMPLE_NAME


async def test_an_offices_answer_is_recorded_under_that_office(skipping_env, record):
    from sinergi.testing.cases import event
    from sinergi.testing.waiting import eventually

    async with harness(skipping_env.client, record=AsyncCaseRecord(record)) as h:
        case_id = await h.open()

        referral = await sent_referral(h, case_id)
        office = h.registry.offices[referral.agency]
        await h.cases.send(event(case_id, "referral.acknowledged", referral_id=referral.referral_id),
                           sender=office.sender)
        # The office phones its acceptance in; an operator types it for the office (`case event --as`).
        await h.cases.send(event(case_id, "referral.accepted", referral_id=referral.referral_id),
                           sender=office.sender, entered_by="operator:siti.rahma")
        await skipping_env.sleep(timedelta(seconds=31))  # what is new is sent within RECORD_DELAY

        async def recorded():
            events = rows(record, "events", case_id)
            assert [e["sender"] for e in events if e["type"] == "referral.acknowledged"] == [office.id]
            assert {(e["type"], e["sender"], e["entered_by"]) for e in events if e["type"].startswith("referral.")} \
                == {("referral.acknowledged", office.id, None), ("referral.accepted", office.id, "operator:siti.rahma")}
            steps = rows(record, "referral_steps", case_id)
            assert any(s["referral_id"] == referral.referral_id and s["state"] == "acknowledged"
                       and s["office"] == office.id for s in steps)

        await eventually(recorded)
        texts = [e.text for e in (await h.cases.timeline(case_id)).entries if e.kind == "event"]
        assert any(t.startswith("referral.accepted") and t.endswith("(entered by operator:siti.rahma)") for t in texts)
        assert not any("entered by" in t for t in texts if t.startswith("referral.acknowledged"))
        # Leave nothing running: on the time-skipping server a case whose record activity waits for a stopped
        # worker would hold virtual time still for every later test of the session.
        await h.cases.send(event(case_id, "case.closed", reason="test finished"))
        await skipping_env.client.get_workflow_handle(workflow_id(case_id)).result()


def test_a_fact_the_record_refuses_is_named_without_its_values():
    import asyncio

    from temporalio.exceptions import ApplicationError

    from sinergi.activities.record import RecordActivities
    from sinergi.testing.cases import intake
    from sinergi.workflows import messages as m

    broken = {"kind": "CaseOpened", "case_id": "KALSEL-2026-7Q2M9XKD", "opened_at": "not a time",
              "intake": intake().model_dump(mode="json")}
    sender = {"kind": "EventApplied", "case_id": "KALSEL-2026-7Q2M9XKD", "sender": {"office": SAMPLE_NAME},
              "event_id": "e1", "type": "case.closed", "occurred_at": "2026-12-06T00:00:00Z",
              "applied_at": "2026-12-06T00:00:00Z"}

    class Record:
        async def write(self, facts):
            raise AssertionError("nothing is written")

    for fact in (broken, sender):
        with pytest.raises(ApplicationError) as refused:
            asyncio.run(RecordActivities(Record()).record_facts(
                m.RecordBatch(case_id="KALSEL-2026-7Q2M9XKD", facts=[fact])))
        assert refused.value.type == "FactRefused" and refused.value.non_retryable
        assert SAMPLE_NAME not in str(refused.value) and SAMPLE_PHONE not in str(refused.value)


async def test_a_declines_coded_reason_reaches_the_record_and_the_offices_report(skipping_env, record):
    from sinergi.reports import offices
    from sinergi.testing.cases import event
    from sinergi.testing.waiting import eventually

    async with harness(skipping_env.client, record=AsyncCaseRecord(record)) as h:
        case_id = await h.open()

        referral = await sent_referral(h, case_id)
        office = h.registry.offices[referral.agency]
        await h.cases.send(event(case_id, "referral.declined", referral_id=referral.referral_id,
                                 reason="tidak ada petugas minggu ini", reason_code="no_capacity"),
                           sender=office.sender)
        await skipping_env.sleep(timedelta(seconds=31))  # what is new is sent within RECORD_DELAY

        async def recorded():
            steps = rows(record, "referral_steps", case_id)
            assert [(s["office"], s["reason_code"]) for s in steps if s["state"] == "declined"] == [
                (office.id, "no_capacity")]
            [row] = [r for r in offices(record.engine) if r.office == office.id]
            assert row.decline_reasons.get("no_capacity", 0) >= 1

        await eventually(recorded)
        await h.cases.send(event(case_id, "case.closed", reason="test finished"))
        await skipping_env.client.get_workflow_handle(workflow_id(case_id)).result()
