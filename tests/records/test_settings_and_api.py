"""`[records] url`, the driver it maps to, and the asyncio API the worker's activities call."""

from __future__ import annotations

import pytest
from record_kit import CASE, count, facts_of_every_kind

from sinergi.platform.config import ConfigError, load_settings
from sinergi.records import AsyncCaseRecord, UnsupportedUrl, engine_url, records_url
from sinergi.testing.cases import intake


def test_unset_the_record_is_records_db_in_the_dev_state_folder(tmp_path):
    (tmp_path / "sinergi.toml").write_text('[dev]\nstate_dir = "state"\n')

    settings = load_settings(tmp_path / "sinergi.toml", env={})

    assert records_url(settings) == f"sqlite:///{tmp_path / 'state' / 'records.db'}"


def test_a_relative_sqlite_path_is_against_the_config_folder(tmp_path):
    (tmp_path / "sinergi.toml").write_text('[records]\nurl = "sqlite:///data/records.db"\n')

    settings = load_settings(tmp_path / "sinergi.toml", env={})

    assert records_url(settings) == f"sqlite:///{tmp_path / 'data' / 'records.db'}"


def test_the_url_may_come_from_the_environment(tmp_path):
    url = "postgresql://sinergi@db.internal:5432/records"

    settings = load_settings(env={"SINERGI_RECORDS_URL": url})

    assert records_url(settings) == url


def test_an_unknown_database_is_a_config_error_naming_the_key(tmp_path):
    (tmp_path / "sinergi.toml").write_text('[records]\nurl = "mysql://db/records"\n')

    with pytest.raises(ConfigError, match=r"records\.url: expected sqlite:///<path> or postgresql://"):
        load_settings(tmp_path / "sinergi.toml", env={})


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg://u@h/db"])
def test_postgresql_urls_use_psycopg_3(url):
    assert engine_url(url).drivername == "postgresql+psycopg"


def test_an_in_memory_record_is_refused_since_it_would_be_lost():
    with pytest.raises(UnsupportedUrl, match="in-memory"):
        engine_url("sqlite://")


def test_a_refused_url_never_shows_its_password():
    with pytest.raises(UnsupportedUrl) as refused:
        engine_url("mysql://sinergi:hunter2@db/records")

    assert "hunter2" not in str(refused.value)


async def test_the_worker_writes_and_reads_through_the_asyncio_api(record):
    aio = AsyncCaseRecord(record)

    written = await aio.write(facts_of_every_kind())
    again = await aio.write(facts_of_every_kind())

    # Ten report rows, two deliveries they imply; the note is only sealed.
    assert (written.written, again.written) == (12, 0)
    assert await aio.intake(CASE) == intake()
    erased = await aio.erase(CASE, requested_by="operator:ana")
    assert erased.personal_items_deleted == 4
    assert count(record, "events", CASE) == 1
