"""The operators' CLI as operators run it: `.venv/bin/sinergi` in a subprocess (helpers in `cli_kit`), against
the session's real Temporal dev server (`dev_env`) and a real worker running in the test process on its own
task queue. Each CLI process gets an isolated cwd and HOME (no stray `sinergi.toml`, no `.sinergi/`).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cli_kit import Cli, base_env

from sinergi.testing.cases import TEST_KEY, TEST_KEY_ID, harness


@pytest.fixture(scope="session")
def keys_file(tmp_path_factory) -> Path:
    """The public, test-only key the in-process worker (TEST_CONVERTER) decrypts with."""
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    path.write_text(json.dumps({TEST_KEY_ID: base64.b64encode(TEST_KEY).decode()}))
    return path


@pytest.fixture(scope="module")
async def worker(dev_env):
    """A real worker on its own task queue, serving while the CLI subprocesses run."""
    async with harness(dev_env.client) as h:
        yield h


@pytest.fixture
def home(tmp_path) -> Path:
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    return tmp_path


@pytest.fixture
def offline_cli(home, keys_file) -> Cli:
    """The CLI with keys but no reachable Temporal: port 1 on loopback is closed."""
    env = {**base_env(home / "home"), "SINERGI_TEMPORAL_ADDRESS": "127.0.0.1:1",
           "SINERGI_CODEC_KEYS_FILE": str(keys_file), "SINERGI_CODEC_KEY_ID": TEST_KEY_ID}
    return Cli(env, home / "work")


@pytest.fixture
def cli(dev_env, worker, home, keys_file) -> Cli:
    """The CLI pointed at the dev server and the worker's task queue."""
    env = {**base_env(home / "home"),
           "SINERGI_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
           "SINERGI_TEMPORAL_NAMESPACE": dev_env.client.namespace,
           "SINERGI_TEMPORAL_TASK_QUEUE": worker.task_queue,
           "SINERGI_CODEC_KEYS_FILE": str(keys_file), "SINERGI_CODEC_KEY_ID": TEST_KEY_ID}
    return Cli(env, home / "work")
