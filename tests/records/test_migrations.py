"""Migrations: from an empty database to this code's schema, idempotent, safe when workers start together."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sinergi.records import CaseRecord, SchemaOutOfDate, create_engine, head, migrate
from sinergi.records._schema import metadata


def test_migrating_an_empty_database_creates_every_table(record_url):
    assert migrate(record_url) == head()

    engine = create_engine(record_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(metadata.tables) <= tables


def test_migrating_again_changes_nothing_and_keeps_what_was_written(record_url, keys):
    from record_kit import CASE, count, facts_of_every_kind

    migrate(record_url)
    record = CaseRecord.open(record_url, keys)
    record.write(facts_of_every_kind())

    assert migrate(record_url) == head()

    assert count(record, "events", CASE) == 1
    assert record.intake(CASE) is not None
    record.close()


def test_workers_starting_together_all_migrate_without_error(record_url):
    code = "import sys; from sinergi.records import migrate; print(migrate(sys.argv[1]))"
    workers = [subprocess.Popen([sys.executable, "-c", code, record_url], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(3)]
    with ThreadPoolExecutor(2) as pool:  # and two threads of this process, at the same time
        here = list(pool.map(lambda _: migrate(record_url), range(2)))
    answers = [worker.communicate(timeout=60) for worker in workers]

    assert [err for _, err in answers if err] == []
    assert [out.strip() for out, _ in answers] + here == [head()] * 5


def test_the_migrated_schema_is_the_one_the_code_writes_to(record_url):
    migrate(record_url)
    engine = create_engine(record_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    # A change to _schema.py needs a new revision in sinergi/records/migrations/versions.
    assert differences == []


def test_a_record_never_migrated_is_refused_saying_what_to_run(record_url, keys):
    with pytest.raises(SchemaOutOfDate, match=r"records\.migrate"):
        CaseRecord.open(record_url, keys)


def test_opening_with_migrate_schema_brings_an_empty_database_up_to_date(record_url, keys):
    record = CaseRecord.open(record_url, keys, migrate_schema=True)
    record.close()

    CaseRecord.open(record_url, keys).close()  # no SchemaOutOfDate now
