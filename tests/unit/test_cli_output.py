"""How the CLI speaks to people and to scripts (issue 23, items 2 and 6), in process through click's runner: with
`--json` every error is JSON on stdout with the exit code unchanged, `--output json|jsonl|table`, colour that
honours NO_COLOR and `--color`, and `sinergi completion bash|zsh|fish`.

Temporal is never reached here: the case commands get a stand-in for `cases_for` that answers as a server would
(no such case, unreachable); tests/e2e run the same errors against a real server and a closed port.
"""

from __future__ import annotations

import json
import re
from contextlib import asynccontextmanager

import pytest
from click.testing import CliRunner, Result

from sinergi.cases import CaseNotFound, ServiceUnavailable
from sinergi.cli import cli
from sinergi.commands import case as case_commands

ANSI = re.compile(r"\x1b\[[0-9;]*m")
ERROR_KEYS = {"error", "message", "details", "hint"}


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """No user config, no record, no stray colour setting: only what a test adds."""
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "SINERGI_DEV_STATE_DIR": str(tmp_path / "state"),
            "NO_COLOR": "", "SINERGI_CONFIG": "", "SINERGI_PROFILE": ""}


def sinergi(*args: str, env: dict[str, str], color: bool = False) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, prog_name="sinergi", color=color)


def json_error(result: Result, exit_code: int, error: str) -> dict:
    """The error as JSON on stdout (nothing but it there), with its exit code."""
    assert result.exit_code == exit_code, result.output
    body = json.loads(result.stdout)
    assert set(body) == ERROR_KEYS and body["error"] == error, body
    assert "error: " not in result.stderr and "Traceback" not in result.output
    return body


class Answering:
    """A stand-in for `sinergi.commands.session.cases_for`: every question is answered with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.asked: list[str] = []

    @asynccontextmanager
    async def __call__(self, settings):
        yield self

    async def status(self, case_id: str):
        self.asked.append(case_id)
        raise self.error


def test_bad_input_under_json_is_json_on_stdout_naming_the_field_and_its_allowed_values(env):
    result = sinergi("case", "event", "KALSEL-2026-AAAAAAAA", "rehabilitation.request_filed", "--data",
                     '{"services": ["health"], "filed_by": "neighbour"}', "--json", env=env)
    body = json_error(result, 2, "invalid_event")
    [problem] = body["details"]
    assert problem["field"] == "data.filed_by" and problem["got"] == "neighbour"
    assert problem["allowed"] == ["victim", "family", "companion", "police", "social_worker"]
    assert "sinergi events rehabilitation.request_filed" in body["hint"]


def test_the_same_error_without_json_is_text_on_stderr_and_nothing_on_stdout(env):
    result = sinergi("case", "event", "KALSEL-2026-AAAAAAAA", "consent.recorded", "--data", "{}", env=env)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: invalid consent.recorded event")
    assert "data.scope: Field required; allowed: services | data_sharing | legal" in result.stderr


def test_an_unknown_case_under_json_is_json_with_exit_2(env, monkeypatch):
    cases = Answering(CaseNotFound("no case KALSEL-2026-NOSUCH00"))
    monkeypatch.setattr(case_commands, "cases_for", cases)
    body = json_error(sinergi("case", "status", "KALSEL-2026-NOSUCH00", "--json", env=env), 2, "case_not_found")
    assert body["message"] == "no case KALSEL-2026-NOSUCH00" and "sinergi case list" in body["hint"]


def test_an_unreachable_server_under_json_is_json_with_exit_3(env, monkeypatch):
    unreachable = ServiceUnavailable("cannot reach Temporal at 127.0.0.1:1")
    monkeypatch.setattr(case_commands, "cases_for", Answering(unreachable))
    body = json_error(sinergi("case", "status", "KALSEL-2026-AAAAAAAA", "-o", "json", env=env), 3,
                      "temporal_unavailable")
    assert "127.0.0.1:1" in body["message"] and "sinergi dev" in body["hint"]


@pytest.mark.parametrize("typed", ["kalsel-2026-7q2m9xkd", "case-KALSEL-2026-7Q2M9XKD", " Kalsel-2026-7Q2M9XKD "])
def test_a_case_id_is_understood_as_people_type_or_copy_it(typed, env, monkeypatch):
    cases = Answering(CaseNotFound("no case KALSEL-2026-7Q2M9XKD"))
    monkeypatch.setattr(case_commands, "cases_for", cases)
    sinergi("case", "status", typed, env=env)
    assert cases.asked == ["KALSEL-2026-7Q2M9XKD"]


def test_a_usage_error_under_json_is_json_too_wherever_the_flag_stands(env):
    for args in (["case", "status", "--json"], ["--json", "case", "status"]):
        body = json_error(sinergi(*args, env=env), 2, "missing_argument")
        assert "CASE_ID" in body["message"]
    body = json_error(sinergi("case", "status", "not an id!", "--json", env=env), 2, "invalid_argument")
    assert "KALSEL-2026-7Q2M9XKD" in body["message"]
    text = sinergi("case", "status", env=env)
    assert text.exit_code == 2 and "Missing argument 'CASE_ID'" in text.stderr and text.stdout == ""


def test_a_configuration_error_under_json_is_json(env, tmp_path):
    (tmp_path / "bad.toml").write_text("[gatewy]\n")
    body = json_error(sinergi("policy", "show", "--json", "--config", str(tmp_path / "bad.toml"), env=env), 2,
                      "invalid_config")
    assert "gatewy: unknown section" in body["message"]


def test_output_jsonl_prints_one_object_per_line_and_json_indents(env):
    lines = sinergi("policy", "show", "--output", "jsonl", env=env).stdout.splitlines()
    as_json = json.loads(sinergi("policy", "show", "--json", env=env).stdout)
    assert [json.loads(line) for line in lines] == as_json and len(lines) == len(as_json) > 5
    assert json.loads(sinergi("policy", "show", "-o", "json", env=env).stdout) == as_json
    # The root's choice carries to the command.
    assert sinergi("-o", "jsonl", "policy", "show", env=env).stdout.splitlines() == lines
    table = sinergi("policy", "show", "--output", "table", env=env)
    assert table.exit_code == 0 and table.stdout.startswith("policy default")


def test_json_and_output_table_together_are_refused(env):
    json_error(sinergi("policy", "show", "--json", "--output", "table", env=env), 2, "usage")


def test_colour_on_a_terminal_unless_no_color_or_color_never(env):
    coloured = sinergi("policy", "show", env=env, color=True)
    assert ANSI.search(coloured.stdout), "a terminal gets colour by default"
    for extra_env, args in (({"NO_COLOR": "1"}, []), ({}, ["--color", "never"]), ({}, ["--color=never"])):
        plain = sinergi("policy", "show", *args, env={**env, **extra_env}, color=True)
        assert plain.exit_code == 0 and not ANSI.search(plain.output), (extra_env, args)
    forced = sinergi("--color", "always", "policy", "show", env={**env, "NO_COLOR": "1"}, color=False)
    assert ANSI.search(forced.stdout), "--color always wins over NO_COLOR and a pipe"


def test_errors_on_stderr_honour_no_color(env):
    result = sinergi("events", "bogus.type", env={**env, "NO_COLOR": "1"}, color=True)
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and not ANSI.search(result.stderr)


@pytest.mark.parametrize(("shell", "marker"), [("bash", "_SINERGI_COMPLETE=bash_complete"),
                                               ("zsh", "#compdef sinergi"),
                                               ("fish", "complete --no-files --command sinergi")])
def test_completion_prints_the_script_for_each_shell(shell, marker, env):
    result = sinergi("completion", shell, env=env)
    assert result.exit_code == 0 and marker in result.stdout, result.output


def test_completion_refuses_an_unknown_shell(env):
    result = sinergi("completion", "tcsh", env=env)
    assert result.exit_code == 2 and "tcsh" in result.stderr


def test_completion_offers_event_types_and_normalises_nothing_away(env):
    result = CliRunner().invoke(cli, [], prog_name="sinergi", env={
        **env, "_SINERGI_COMPLETE": "bash_complete", "COMP_WORDS": "sinergi case event kalsel-2026-x consent.",
        "COMP_CWORD": "4"})
    assert result.stdout.split() == ["plain,consent.recorded", "plain,consent.withdrawn"], result.output
    families = CliRunner().invoke(cli, [], prog_name="sinergi", env={
        **env, "_SINERGI_COMPLETE": "bash_complete", "COMP_WORDS": "sinergi events refer", "COMP_CWORD": "2"})
    assert "plain,referral.*" in families.stdout.split()


def test_every_command_takes_profile_color_and_json(env):
    def commands(group, path=()):
        for name, command in getattr(group, "commands", {}).items():
            yield from commands(command, (*path, name)) if hasattr(command, "commands") else [((*path, name), command)]

    for path, command in commands(cli):
        names = {opt for param in command.params for opt in param.opts}
        assert {"--profile", "--color", "--json", "--config"} <= names, path


def test_print_json_leaves_nothing_for_an_empty_jsonl_list(capsys):
    # `case list -o jsonl` with no case prints no line at all (not an empty one).
    from sinergi.commands.console import Output, print_json, use_output

    use_output(Output("jsonl"))
    try:
        print_json([])
        print_json([{"a": 1}, {"a": 2}])
    finally:
        use_output(Output())
    assert capsys.readouterr().out == '{"a": 1}\n{"a": 2}\n'
