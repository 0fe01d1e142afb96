"""The reports run on both databases the record supports: SQLite, and the session's throwaway PostgreSQL cluster
(`postgres`, tests/conftest.py; skipped, saying why, where its binaries are absent, required in CI).

`record` is the hand-counted record of `report_kit`, written once per session and database and only read by the
tests (`sqlite_record`: on SQLite only); `empty_record` is a fresh one for a test that writes its own cases.
"""

from __future__ import annotations

import os
import uuid

import pytest
from report_kit import MANY, facts, sample_case

from sinergi.records import CaseKeys, CaseRecord, migrate


def _database(request, folder) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{folder / f'records-{uuid.uuid4().hex[:8]}.db'}"
    return request.getfixturevalue("postgres").create_database(f"r_{uuid.uuid4().hex[:16]}")


def _opened(url: str) -> CaseRecord:
    migrate(url)
    return CaseRecord.open(url, CaseKeys({"k1": os.urandom(32)}, "k1"))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def record(request, tmp_path_factory):
    """The record of `report_kit.facts()`, on each database."""
    opened = _opened(_database(request, tmp_path_factory.mktemp("records")))
    opened.write(facts())
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def sqlite_record(tmp_path_factory):
    """The record of `report_kit.facts()` on SQLite alone: for what does not depend on the database (formats)."""
    opened = _opened(f"sqlite:///{tmp_path_factory.mktemp('records') / 'records.db'}")
    opened.write(facts())
    yield opened
    opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_record(request, tmp_path):
    opened = _opened(_database(request, tmp_path))
    yield opened
    opened.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def many_cases(request, tmp_path_factory):
    """`MANY` cases opened from the sample intake (its person block sealed), varied by `report_kit.sample_case`."""
    opened = _opened(_database(request, tmp_path_factory.mktemp("records")))
    opened.write([sample_case(f"KALSEL-2026-S{i:04d}", i) for i in range(MANY)])
    yield opened
    opened.close()
