"""The e-mail offices' referral-page passcodes: kept like the offices' other secrets (an environment variable,
else the dev secrets file), made readable aloud, and rotated by `sinergi admin passcode rotate OFFICE`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sinergi.cli import cli
from sinergi.domain.agencies import Office
from sinergi.platform.secrets import (
    PASSCODE_ALPHABET,
    MissingSecret,
    ensure_dev_secrets,
    new_passcode,
    office_passcode,
)

EMAIL_OFFICE = Office(id="dinsos_banjar", name="Dinas Sosial Kabupaten Banjar", kind="dinsos", adapter="email",
                      provinces=["KALSEL"], settings={"to": ["rujukan@dinsos.example.test"],
                                                      "passcode_env": "SINERGI_DINSOS_BANJAR_PASSCODE"})
WEBHOOK_OFFICE = Office(id="polda_kalsel", name="POLDA", kind="polri", provinces=["KALSEL"])


def test_a_passcode_reads_aloud_without_look_alike_characters():
    codes = {new_passcode() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        first, second = code.split("-")
        assert len(first) == len(second) == 5
        assert set(first + second) <= set(PASSCODE_ALPHABET) and not set("01OIL") & set(first + second)


def test_dev_secrets_give_each_email_office_a_passcode_and_the_variable_wins(tmp_path):
    path = tmp_path / "agency-secrets.json"
    ensure_dev_secrets(path, [EMAIL_OFFICE, WEBHOOK_OFFICE])
    stored = json.loads(path.read_text())
    assert "passcode" in stored["dinsos_banjar"] and "passcode" not in stored["polda_kalsel"]
    assert office_passcode(EMAIL_OFFICE, environ={}, secrets_file=path) == stored["dinsos_banjar"]["passcode"]
    assert office_passcode(EMAIL_OFFICE, environ={"SINERGI_DINSOS_BANJAR_PASSCODE": "FROM1-ENV23"},
                           secrets_file=path) == "FROM1-ENV23"
    with pytest.raises(MissingSecret, match="shorter than 10"):  # a guessable one is no passcode
        office_passcode(EMAIL_OFFICE, environ={"SINERGI_DINSOS_BANJAR_PASSCODE": "1234"}, secrets_file=path)
    with pytest.raises(MissingSecret, match="SINERGI_DINSOS_BANJAR_PASSCODE"):
        office_passcode(EMAIL_OFFICE, environ={}, secrets_file=None)


def _config(tmp_path):
    agencies = tmp_path / "agencies.toml"
    agencies.write_text('''
[agencies.dinsos_banjar]
name = "Dinas Sosial Kabupaten Banjar"
kind = "dinsos"
provinces = ["KALSEL"]
adapter = "email"
[agencies.dinsos_banjar.settings]
to = ["rujukan@dinsos.example.test"]
passcode_env = "SINERGI_DINSOS_BANJAR_PASSCODE"

[agencies.polda_kalsel]
name = "POLDA Kalimantan Selatan"
kind = "polri"
provinces = ["KALSEL"]
''')
    config = tmp_path / "sinergi.toml"
    config.write_text(f'[agencies]\nfile = "{agencies}"\n[dev]\nstate_dir = "{tmp_path / "state"}"\n')
    return config


def test_rotate_gives_a_new_passcode_in_force_at_once_under_sinergi_dev(tmp_path):
    config = _config(tmp_path)
    env = {"SINERGI_DINSOS_BANJAR_PASSCODE": ""}
    first = CliRunner().invoke(cli, ["admin", "passcode", "rotate", "dinsos_banjar", "--config", str(config)],
                               env=env)
    assert first.exit_code == 0, first.output
    code = first.stdout.strip()
    stored = json.loads((tmp_path / "state" / "agency-secrets.json").read_text())
    assert stored["dinsos_banjar"]["passcode"] == code
    second = CliRunner().invoke(cli, ["admin", "passcode", "rotate", "dinsos_banjar", "--config", str(config)],
                                env=env)
    assert second.stdout.strip() != code  # the old passcode no longer works


def test_rotate_refuses_an_unknown_office_and_one_without_a_page(tmp_path):
    config = _config(tmp_path)
    unknown = CliRunner().invoke(cli, ["admin", "passcode", "rotate", "nobody", "--config", str(config)])
    assert unknown.exit_code == 2 and "no office 'nobody'" in unknown.output
    webhook = CliRunner().invoke(cli, ["admin", "passcode", "rotate", "polda_kalsel", "--config", str(config)])
    assert webhook.exit_code == 1 and "its own system" in webhook.output
