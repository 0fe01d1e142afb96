"""`sinergi admin setup` and `sinergi admin replay` as processes, the way a deploy runs them."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from sinergi.cli import cli
from sinergi.platform.binaries import temporal_cli
from sinergi.testing.cases import TEST_CONVERTER, TEST_KEY, TEST_KEY_ID, harness
from sinergi.workflows.messages import SEARCH_ATTRIBUTES

HERE = Path(__file__).resolve().parent
HISTORIES = sorted((HERE.parent / "replay" / "histories").glob("*.json"))
SINERGI = str(Path(sys.executable).with_name("sinergi"))


@pytest.fixture(scope="module")
def keys_env(tmp_path_factory) -> dict[str, str]:
    """An environment whose keys file holds the public test-only key the saved histories were recorded with."""
    folder = tmp_path_factory.mktemp("keys")
    keys = folder / "keys.json"
    keys.write_text(json.dumps({TEST_KEY_ID: base64.b64encode(TEST_KEY).decode()}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_")}
    # A folder with no sinergi.toml: the process sees only the settings given here.
    return {**env, "SINERGI_CODEC_KEYS_FILE": str(keys), "SINERGI_CODEC_KEY_ID": TEST_KEY_ID, "NO_COLOR": "1"}


def sinergi(*args: str, env: dict[str, str], cwd: Path, program: tuple[str, ...] = (SINERGI,)):
    return subprocess.run([*program, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
async def bare_server():
    """A fresh dev server on which no search attribute is registered yet."""
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_cli(),
                                                dev_server_extra_args=["--headless"], data_converter=TEST_CONVERTER)
    yield env
    await env.shutdown()


async def test_admin_setup_registers_the_search_attributes_once_then_adds_nothing(bare_server, keys_env, tmp_path):
    env = {**keys_env, "SINERGI_TEMPORAL_ADDRESS": bare_server.client.service_client.config.target_host,
           "SINERGI_TEMPORAL_NAMESPACE": bare_server.client.namespace}
    first = sinergi("admin", "setup", "--json", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert sorted(json.loads(first.stdout)["added"]) == sorted(k.name for k in SEARCH_ATTRIBUTES)

    second = sinergi("admin", "setup", "--json", env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)["added"] == []
    assert sorted(json.loads(second.stdout)["present"]) == sorted(k.name for k in SEARCH_ATTRIBUTES)

    listed = await bare_server.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=bare_server.client.namespace))
    for key in SEARCH_ATTRIBUTES:
        assert IndexedValueType.Name(listed.custom_attributes[key.name]) == IndexedValueType.Name(
            key.indexed_value_type)


def test_admin_setup_without_a_server_exits_3_naming_the_address(keys_env, tmp_path):
    env = {**keys_env, "SINERGI_TEMPORAL_ADDRESS": "127.0.0.1:1"}
    result = sinergi("admin", "setup", env=env, cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    assert "127.0.0.1:1" in result.stderr and "Traceback" not in result.stderr


def test_admin_replay_passes_the_saved_histories_on_the_current_code(keys_env, tmp_path):
    result = sinergi("admin", "replay", "--json", *map(str, HISTORIES), env=keys_env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["failures"] == {} and len(report["replayed"]) == len(HISTORIES) >= 3


def test_admin_replay_fails_with_exit_1_on_a_non_deterministic_change(keys_env, tmp_path):
    careless = (sys.executable, str(HERE / "careless_replay.py"))
    result = sinergi(*map(str, HISTORIES), env=keys_env, cwd=tmp_path, program=careless)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.count("NOT DETERMINISTIC") == len(HISTORIES)
    assert "Nondeterminism" in result.stdout
    assert f"{len(HISTORIES)} of {len(HISTORIES)} histories do not replay" in result.stderr
    assert "workflow.patched" in result.stderr


async def test_admin_replay_from_namespace_replays_a_running_case(dev_env, keys_env, tmp_path):
    async with harness(dev_env.client) as h:
        case_id = await h.open()
        await h.send(case_id, "identification.screening_completed", outcome="presumed_victim")
    query = f"WorkflowId = 'case-{case_id}'"
    for _ in range(50):  # visibility is eventually consistent
        if [w async for w in dev_env.client.list_workflows(query)]:
            break
        await asyncio.sleep(0.1)
    env = {**keys_env, "SINERGI_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
           "SINERGI_TEMPORAL_NAMESPACE": dev_env.client.namespace}
    result = await asyncio.to_thread(sinergi, "admin", "replay", "--from-namespace", "--query", query, "--json",
                                     env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["replayed"] == [f"case-{case_id}"]


@pytest.mark.parametrize(("content", "problem"), [
    ('{"workflow_id": "case-X", "history": {"events": [{"eventId": "one"}]}}', "not a Temporal history"),
    ('{"workflow_id": "case-X", "history": {"events": [', "not a JSON history"),
], ids=["not-a-history", "not-json"])
def test_admin_replay_refuses_a_corrupt_history_file_with_exit_2(content, problem, keys_env, tmp_path):
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(content)
    # In process: the file is refused before anything connects or replays.
    result = CliRunner().invoke(cli, ["admin", "replay", str(corrupt)], env=keys_env)
    assert result.exit_code == 2, result.output
    assert "corrupt.json" in result.output and problem in result.output


def test_admin_replay_fails_with_exit_1_on_a_history_encrypted_with_a_foreign_key(keys_env, tmp_path):
    foreign = tmp_path / "foreign-keys.json"
    foreign.write_text(json.dumps({TEST_KEY_ID: base64.b64encode(bytes(32)).decode()}))
    env = {**keys_env, "SINERGI_CODEC_KEYS_FILE": str(foreign)}
    result = sinergi("admin", "replay", str(HISTORIES[0]), env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CANNOT REPLAY" in result.stdout and "cannot decrypt payload" in result.stdout


def test_admin_replay_needs_something_to_replay(keys_env):
    result = CliRunner().invoke(cli, ["admin", "replay"], env=keys_env)
    assert result.exit_code == 2
    assert "--from-namespace" in result.output
