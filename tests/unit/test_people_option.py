"""`--people`: which e-mail offices a person plays (a training), refused clearly when it names another office."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sinergi.agencies import load_registry
from sinergi.cli import cli
from sinergi.commands.console import UserError
from sinergi.commands.sandbox import people_option

REGISTRY = load_registry("sandbox")


def test_all_none_and_named_offices():
    assert people_option("all", REGISTRY) == {"dinsos_kalsel", "ngo_kalsel"}
    assert people_option("none", REGISTRY) == frozenset()
    assert people_option(" dinsos_kalsel , ", REGISTRY) == {"dinsos_kalsel"}


def test_an_office_without_email_cannot_be_left_to_people():
    with pytest.raises(UserError, match="polda_kalsel.*the e-mail offices are: dinsos_kalsel, ngo_kalsel"):
        people_option("polda_kalsel", REGISTRY)
    with pytest.raises(UserError, match="nobody_here"):
        people_option("dinsos_kalsel,nobody_here", REGISTRY)


@pytest.mark.parametrize("command", [["dev", "--people", "polda_kalsel"], ["sandbox", "--people", "polda_kalsel"],
                                     ["dev", "--no-sandbox", "--people", "dinsos_kalsel"]])
def test_the_commands_refuse_before_starting_anything(command, tmp_path):
    result = CliRunner().invoke(cli, [*command, "--json"], env={"SINERGI_DEV_STATE_DIR": str(tmp_path)})
    assert result.exit_code == 2, result.output
    # With --json the error is JSON on stdout (issue 23): `{"error", "message", "details", "hint"}`.
    error = json.loads(result.stdout)
    assert error["error"] == "bad_input" and "people" in error["message"]
