"""Office secrets: the environment first, else the dev secrets file — read again whenever it changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sinergi.agencies import load_registry
from sinergi.platform.secrets import MissingSecret, ensure_dev_secrets, office_secret

OFFICE = load_registry("sandbox").offices["bp3mi_kalsel"]


def test_the_environment_wins_over_the_dev_secrets_file(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    ensure_dev_secrets(path, [OFFICE])
    assert office_secret(OFFICE, "inbound", {"SINERGI_BP3MI_KALSEL_IN": "whsec_env"}, path) == "whsec_env"
    assert office_secret(OFFICE, "inbound", {}, path) == json.loads(path.read_text())["bp3mi_kalsel"]["inbound"]


def test_a_rotated_secret_in_the_dev_file_is_used_at_once(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    ensure_dev_secrets(path, [OFFICE])
    before = office_secret(OFFICE, "outbound", {}, path)
    stored = json.loads(path.read_text())
    stored["bp3mi_kalsel"]["outbound"] = "whsec_rotated"
    (tmp_path / "new.json").write_text(json.dumps(stored))
    (tmp_path / "new.json").replace(path)

    assert before != "whsec_rotated"
    assert office_secret(OFFICE, "outbound", {}, path) == "whsec_rotated"


def test_no_secret_anywhere_names_the_variable_to_set(tmp_path: Path) -> None:
    with pytest.raises(MissingSecret, match="SINERGI_BP3MI_KALSEL_OUT"):
        office_secret(OFFICE, "outbound", {}, tmp_path / "missing.json")
