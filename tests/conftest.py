"""Session-wide Temporal servers from the wheels: a time-skipping test server and a dev server.

Each is started once per session; every test gets its own task queue and case ids, so tests never
collide (TEMPORAL.md).
"""

from __future__ import annotations

import pytest
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from sinergi.platform.binaries import temporal_cli, temporal_test_server
from sinergi.platform.temporal import ensure_search_attributes, search_attribute_flags
from sinergi.testing.cases import TEST_CONVERTER

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
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), data_converter=TEST_CONVERTER,
        dev_server_extra_args=[*search_attribute_flags(), "--headless"])
    yield env
    await env.shutdown()
