"""`sinergi admin operator add|list|rotate|revoke` as an administrator runs it: the token shown once and kept only
as a hash, a name never given twice, mistakes told with their exit codes, in either language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from sinergi.cli import cli
from sinergi.records import CaseRecord, Operators


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "sinergi.toml"
    path.write_text(f'[records]\nurl = "sqlite:///{tmp_path / "records.db"}"\n')
    return path


def sinergi(config: Path, *args: str, lang: str = "en"):
    return CliRunner().invoke(cli, ["--lang", lang, *args], env={"SINERGI_CONFIG": str(config), "NO_COLOR": "1"})


def record(config: Path) -> CaseRecord:
    return CaseRecord.open(f"sqlite:///{config.parent / 'records.db'}")


def test_add_prints_the_token_once_and_keeps_only_its_hash(config):
    added = sinergi(config, "admin", "operator", "add", "siti.rahma", "--role", "caseworker", "--json")
    assert added.exit_code == 0, added.output
    token = json.loads(added.stdout)["token"]
    kept = record(config)
    try:
        with kept.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT * FROM operators")).mappings().all()
        assert token not in json.dumps([dict(r) for r in rows], default=str)  # only the hash is stored
        assert Operators(kept).verify(token).name == "siti.rahma"
    finally:
        kept.close()
    listed = sinergi(config, "admin", "operator", "list", "--json")
    assert [o["name"] for o in json.loads(listed.stdout)] == ["siti.rahma"]
    assert token not in listed.stdout and "token" not in json.loads(listed.stdout)[0]


def test_rotate_ends_the_old_token_and_revoke_ends_the_new_one_and_the_name_is_never_given_again(config):
    old = json.loads(sinergi(config, "admin", "operator", "add", "budi.s", "--role", "supervisor",
                             "--json").stdout)["token"]
    rotated = sinergi(config, "admin", "operator", "rotate", "budi.s", "--json")
    assert rotated.exit_code == 0, rotated.output
    new = json.loads(rotated.stdout)["token"]
    kept = record(config)
    try:
        assert Operators(kept).verify(old) is None and Operators(kept).verify(new).role == "supervisor"
        assert sinergi(config, "admin", "operator", "revoke", "budi.s").exit_code == 0
        assert Operators(kept).verify(new) is None
    finally:
        kept.close()
    again = sinergi(config, "admin", "operator", "add", "budi.s", "--role", "caseworker", "--json")
    assert again.exit_code == 1 and json.loads(again.stdout)["error"] == "operator_refused"
    assert sinergi(config, "admin", "operator", "rotate", "budi.s").exit_code == 1  # revoked: no new token


@pytest.mark.parametrize(("args", "code", "error"), [
    (("add", "Bad Name", "--role", "caseworker"), 2, "bad_operator_name"),
    (("revoke", "nobody"), 1, "operator_refused"),
    (("rotate", "nobody"), 1, "operator_refused"),
])
def test_mistakes_are_told_with_their_exit_codes(config, args, code, error):
    done = sinergi(config, "admin", "operator", *args, "--json")
    assert done.exit_code == code
    assert json.loads(done.stdout)["error"] == error


def test_the_token_is_told_in_bahasa_indonesia_too(config):
    done = sinergi(config, "admin", "operator", "add", "eko.dev", "--role", "engineer", lang="id")
    assert done.exit_code == 0, done.output
    assert "sekali ini" in done.stderr  # shown this once, in the operator's language
