"""The `[email]` section (SPEC names, `from` included) and an office's `language`, as the email adapter reads them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sinergi.agencies import load_registry
from sinergi.platform.config import ConfigError, load_settings


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sinergi.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_email_section_takes_the_spec_names_including_from(tmp_path: Path) -> None:
    path = _write(tmp_path, '[email]\nhost = "smtp.kalselprov.example"\nport = 2525\nsecurity = "tls"\n'
                            'username = "sinergi"\npassword_env = "SINERGI_SMTP_PASSWORD"\n'
                            'from = "Sinergi <rujukan@kalselprov.example>"\nreply_to = "gugus@kalselprov.example"\n')
    email = load_settings(path, env={}).email
    assert (email.host, email.effective_port, email.security, email.username, email.password_env, email.from_,
            email.reply_to) == ("smtp.kalselprov.example", 2525, "tls", "sinergi", "SINERGI_SMTP_PASSWORD",
                                "Sinergi <rujukan@kalselprov.example>", "gugus@kalselprov.example")


def test_env_vars_set_email_keys_from_included(tmp_path: Path) -> None:
    env = {"SINERGI_EMAIL_FROM": "x@kalselprov.example", "SINERGI_EMAIL_HOST": "relay",
           "SINERGI_EMAIL_SECURITY": "none"}
    email = load_settings(_write(tmp_path, ""), env=env).email
    assert (email.from_, email.host, email.security, email.effective_port) == ("x@kalselprov.example", "relay",
                                                                               "none", 25)


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("tls", 465), ("none", 25)])
def test_the_port_defaults_to_the_securitys_own(tmp_path: Path, security: str, port: int) -> None:
    path = _write(tmp_path, f'[email]\nsecurity = "{security}"\n')
    assert load_settings(path, env={}).email.effective_port == port


def test_without_an_email_section_no_relay_is_configured(tmp_path: Path) -> None:
    email = load_settings(_write(tmp_path, ""), env={}).email
    assert email.host is None and email.security == "starttls"


def test_a_bad_security_or_an_unknown_key_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"email\.security: expected 'starttls', 'tls' or 'none'"):
        load_settings(_write(tmp_path, '[email]\nsecurity = "ssl"\n'), env={})
    with pytest.raises(ConfigError, match=r"email\.sender: unknown key \(expected one of: host, port, security, "
                                          r"username, password_env, from, reply_to"):
        load_settings(_write(tmp_path, '[email]\nsender = "x@y"\n'), env={})


def test_an_office_speaks_indonesian_unless_its_agreement_says_english() -> None:
    office = load_registry("sandbox").offices["dinsos_kalsel"]
    assert office.language == "id"
    assert office.model_validate({**office.model_dump(), "language": "en"}).language == "en"
    with pytest.raises(ValidationError):
        office.model_validate({**office.model_dump(), "language": "jv"})
