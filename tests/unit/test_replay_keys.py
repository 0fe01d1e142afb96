"""`sinergi admin replay` on the shipped histories (issue 23, item 6): they were encrypted with the public
test-only key, which `--test-key` adds for decoding (or `--keys FILE`); without it the command says a key is
missing — not that the code needs `workflow.patched`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sinergi.cli import cli
from sinergi.testing.cases import TEST_KEY, TEST_KEY_ID

HISTORY = str(Path(__file__).parents[1] / "replay" / "histories" / "breach_and_ladder.json")


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """A keys file of this deployment's own, without the test-only key; no user config."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"k1": base64.b64encode(bytes(range(32))).decode()}))
    return {"SINERGI_CODEC_KEYS_FILE": str(keys), "SINERGI_CODEC_KEY_ID": "k1", "XDG_CONFIG_HOME": str(tmp_path),
            "SINERGI_CONFIG": "", "SINERGI_PROFILE": ""}


def replay(*args: str, env: dict[str, str]):
    return CliRunner().invoke(cli, ["admin", "replay", *args], env=env, prog_name="sinergi")


def test_the_shipped_histories_replay_with_the_test_key(env) -> None:
    result = replay("--test-key", HISTORY, "--json", env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"]


def test_or_with_a_keys_file_holding_it(env, tmp_path) -> None:
    extra = tmp_path / "test-keys.json"
    extra.write_text(json.dumps({TEST_KEY_ID: base64.b64encode(TEST_KEY).decode()}))
    assert replay("--keys", str(extra), HISTORY, env=env).exit_code == 0


def test_without_the_key_the_hint_names_the_missing_key_not_a_patch(env) -> None:
    result = replay(HISTORY, env=env)
    assert result.exit_code == 1
    assert "hint: these histories were encrypted with the public test-only key: replay them with --test-key" \
        in result.stderr
    assert "workflow.patched" not in result.stderr
    as_json = json.loads(replay(HISTORY, "--json", env=env).stdout)
    assert as_json["error"] == "replay_failed" and as_json["details"]["missing_keys"] == [TEST_KEY_ID]


def test_without_any_keys_file_the_hint_says_which_keys_to_give(env, tmp_path) -> None:
    result = replay(HISTORY, env={**env, "SINERGI_CODEC_KEYS_FILE": str(tmp_path / "none.json")})
    assert result.exit_code == 2 and "keys file not found" in result.stderr and "--test-key" in result.stderr
