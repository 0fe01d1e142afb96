"""Personal data: only ever stored sealed with the case's own key; erasing the case erases it for good, and
the facts reports read stay. A missing or wrong codec key is refused, saying which."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from record_kit import CASE, SECRETS, T0, all_rows, count, facts_of_every_kind

from sinergi.records import (
    CaseKeys,
    CaseOpened,
    CaseRecord,
    EventApplied,
    KeyUnavailable,
    PersonalDataErased,
    create_engine,
)
from sinergi.records import _schema as t
from sinergi.testing.cases import SAMPLE_NAME, intake

OTHER = "KALSEL-2026-OTHER0001"
REPORT_TABLES = ("cases", "stage_changes", "events", "referral_steps", "deliveries", "page_unlocks", "notices",
                 "clock_events", "manual_tasks", "decode_audits")


def test_no_personal_value_is_in_any_row_in_plain_text(record):
    record.write(facts_of_every_kind())

    rows = "\n".join(all_rows(record))
    assert [secret for secret in SECRETS if secret in rows] == []


def test_no_personal_value_is_in_the_sqlite_file_in_plain_text(tmp_path, keys):
    database = tmp_path / "records.db"
    record = CaseRecord.open(f"sqlite:///{database}", keys, migrate_schema=True)
    record.write(facts_of_every_kind())
    record.close()

    raw = b"".join(path.read_bytes() for path in tmp_path.glob("records.db*"))  # with its -wal and -shm
    assert len(raw) > 50_000
    assert [secret for secret in SECRETS if secret.encode() in raw] == []


def test_personal_data_reads_back_with_the_case_key(record):
    record.write(facts_of_every_kind())

    assert record.intake(CASE) == intake()
    items = record.personal(CASE)
    assert items[f"{CASE}/event/uptd_ppa_kalsel/evt-1"] == {"data": {"facility": "Rumah Aman Banjarbaru"}}
    assert record.personal(OTHER) == {}


def test_erasing_a_case_makes_its_person_unreadable_and_keeps_its_report_facts(record):
    record.write(facts_of_every_kind())
    record.write(facts_of_every_kind(OTHER))
    before = {table: count(record, table, CASE) for table in REPORT_TABLES}

    erased = record.erase(CASE, requested_by="operator:ana")

    assert (erased.personal_items_deleted, erased.already) == (4, False)
    with pytest.raises(PersonalDataErased, match="erased"):
        record.intake(CASE)
    assert {table: count(record, table, CASE) for table in REPORT_TABLES} == before
    assert count(record, "personal_items", CASE) == 0
    assert count(record, "erasures", CASE) == 1
    with record.engine.connect() as conn:
        key = conn.execute(sa.select(t.case_keys).where(t.case_keys.c.case_id == CASE)).one()
    assert (key.key_id, key.wrapped, key.erased_at) == (None, None, erased.at)
    assert record.intake(OTHER) == intake()  # other cases keep theirs


def test_a_replay_after_erasure_never_brings_the_person_back(record):
    record.write(facts_of_every_kind())
    record.erase(CASE, requested_by="operator:ana")

    again = record.write(facts_of_every_kind())

    assert again.sealed_dropped == 4
    assert count(record, "personal_items", CASE) == 0
    with pytest.raises(PersonalDataErased):
        record.personal(CASE)


def test_erasing_twice_is_one_erasure(record):
    first = record.erase(CASE, requested_by="operator:ana")  # a case with no personal data yet: a tombstone still

    second = record.erase(CASE, requested_by="operator:budi")

    assert (second.already, second.at) == (True, first.at)
    assert count(record, "erasures", CASE) == 1
    assert record.write([CaseOpened.from_intake(CASE, intake(), first.at)]).sealed_dropped == 1


def test_a_wrong_codec_key_is_refused_naming_the_case_and_key_id(record_url, record):
    record.write(facts_of_every_kind())
    impostor = CaseRecord.open(record_url, CaseKeys({"k1": os.urandom(32)}, "k1"))

    with pytest.raises(KeyUnavailable, match=rf"case {CASE}: .*key id 'k1': wrong key"):
        impostor.personal(CASE)
    impostor.close()


def test_a_codec_key_id_missing_from_the_keys_file_is_named(record_url, record):
    record.write(facts_of_every_kind())
    rotated_away = CaseRecord.open(record_url, CaseKeys({"k2": os.urandom(32)}, "k2"))

    with pytest.raises(KeyUnavailable, match=r"codec key id 'k1', which is not in the keys file"):
        rotated_away.intake(CASE)
    rotated_away.close()


def test_without_codec_keys_report_facts_are_written_but_personal_data_is_refused(record_url, record):
    keyless = CaseRecord(create_engine(record_url), keys=None)
    plain = EventApplied(case_id=CASE, sender="bp3mi_kalsel", event_id="e-1", type="case.opened", occurred_at=T0,
                         applied_at=T0)

    assert keyless.write([plain]).written == 1
    with pytest.raises(KeyUnavailable, match="no codec keys"):
        keyless.write(facts_of_every_kind()[:1])
    assert count(record, "cases") == 0  # the refused batch left nothing behind
    keyless.close()


def test_a_case_key_copied_onto_another_case_does_not_open_it(record):
    record.write(facts_of_every_kind())
    record.write(facts_of_every_kind(OTHER))
    with record.engine.begin() as conn:
        stolen = conn.execute(sa.select(t.case_keys.c.wrapped).where(t.case_keys.c.case_id == CASE)).scalar_one()
        conn.execute(sa.update(t.case_keys).where(t.case_keys.c.case_id == OTHER).values(wrapped=stolen))

    with pytest.raises(KeyUnavailable, match=f"case {OTHER}: cannot unwrap"):
        record.personal(OTHER)


def test_after_a_codec_key_rotation_older_cases_still_open(record_url, record, codec_key):
    record.write(facts_of_every_kind())
    rotated = CaseRecord.open(record_url, CaseKeys({"k1": codec_key, "k2": os.urandom(32)}, "k2"))

    rotated.write(facts_of_every_kind(OTHER))

    assert rotated.intake(CASE) == rotated.intake(OTHER) == intake()
    with record.engine.connect() as conn:
        ids = dict(conn.execute(sa.select(t.case_keys.c.case_id, t.case_keys.c.key_id)).all())
    assert ids == {CASE: "k1", OTHER: "k2"}
    assert SAMPLE_NAME not in "".join(all_rows(record))
    rotated.close()
