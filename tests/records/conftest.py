"""The case record's tests run on both databases it supports: SQLite, and a throwaway PostgreSQL 15 cluster.

The cluster (`postgres`, tests/conftest.py) starts once per session, shared with tests/reports, and each test gets
a database of its own. Without PostgreSQL's server binaries the PostgreSQL variants skip, saying why; CI sets
SINERGI_REQUIRE_POSTGRES=1 (`.ci/run`), so there missing binaries fail instead of skipping.
"""

from __future__ import annotations

import os
import uuid

import pytest

from sinergi.records import CaseKeys, CaseRecord, migrate

KEY_ID = "k1"


@pytest.fixture(params=["sqlite", "postgresql"])
def record_url(request, tmp_path) -> str:
    """An empty database of each kind (not migrated)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.db'}"
    return request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:16]}")


@pytest.fixture
def codec_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def keys(codec_key) -> CaseKeys:
    return CaseKeys({KEY_ID: codec_key}, KEY_ID)


@pytest.fixture
def record(record_url, keys):
    """A migrated record with a fresh codec key."""
    migrate(record_url)
    opened = CaseRecord.open(record_url, keys)
    yield opened
    opened.close()
