"""The user's config file and its profiles (issue 23, item 6): where it is found, which profile is chosen, and the
order settings are layered in — defaults, sinergi.toml, the profile, SINERGI_* variables, a command's options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sinergi.cli import cli
from sinergi.commands.profiles import settings_for, user_config_path
from sinergi.platform.config import ConfigError

STAGING = """
[profiles.staging.temporal]
address = "temporal.staging.example:7233"
namespace = "kalsel-staging"
[profiles.staging.codec]
keys_file = "keys/staging.json"
[profiles.demo.policy]
file = "demo"
"""


def user_config(home: Path, text: str) -> dict[str, str]:
    """An environment whose $XDG_CONFIG_HOME/sinergi/config.toml holds `text`."""
    folder = home / "xdg" / "sinergi"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(text)
    return {"XDG_CONFIG_HOME": str(home / "xdg"), "HOME": str(home)}


def test_the_user_config_is_under_xdg_config_home_else_home_dot_config(tmp_path) -> None:
    assert user_config_path({"XDG_CONFIG_HOME": "/x", "HOME": "/h"}) == Path("/x/sinergi/config.toml")
    assert user_config_path({"HOME": "/h"}) == Path("/h/.config/sinergi/config.toml")
    # A relative XDG_CONFIG_HOME is ignored, as the XDG specification says.
    assert user_config_path({"XDG_CONFIG_HOME": "rel", "HOME": "/h"}) == Path("/h/.config/sinergi/config.toml")


def test_no_user_config_and_no_profile_leaves_the_settings_as_they_were(tmp_path) -> None:
    settings = settings_for(None, None, {"HOME": str(tmp_path)})
    assert settings.temporal.address == "127.0.0.1:7233"


def test_a_profile_is_chosen_by_option_else_by_sinergi_profile(tmp_path) -> None:
    env = user_config(tmp_path, STAGING)
    assert settings_for(None, None, env).temporal.namespace == "default"  # none chosen, none named default
    chosen = settings_for(None, "staging", env)
    assert (chosen.temporal.address, chosen.temporal.namespace) == ("temporal.staging.example:7233",
                                                                     "kalsel-staging")
    assert settings_for(None, None, {**env, "SINERGI_PROFILE": "staging"}).temporal.namespace == "kalsel-staging"
    assert settings_for(None, "demo", {**env, "SINERGI_PROFILE": "staging"}).policy.file == "demo"


def test_the_profile_named_default_applies_when_none_is_chosen(tmp_path) -> None:
    env = user_config(tmp_path, STAGING + '[profiles.default.temporal]\nnamespace = "kalsel"\n')
    assert settings_for(None, None, env).temporal.namespace == "kalsel"
    assert settings_for(None, "staging", env).temporal.namespace == "kalsel-staging"


def test_paths_in_a_profile_are_relative_to_the_user_config_folder(tmp_path) -> None:
    env = user_config(tmp_path, STAGING)
    assert settings_for(None, "staging", env).codec.keys_file == tmp_path / "xdg" / "sinergi" / "keys" / "staging.json"


def test_layers_sinergi_toml_then_profile_then_environment(tmp_path) -> None:
    toml = tmp_path / "sinergi.toml"
    toml.write_text('[temporal]\naddress = "file:7233"\nnamespace = "file-ns"\ntask_queue = "file-queue"\n')
    env = user_config(tmp_path, STAGING)
    settings = settings_for(str(toml), "staging", {**env, "SINERGI_TEMPORAL_NAMESPACE": "env-ns"})
    assert settings.temporal.task_queue == "file-queue"  # the file, where the profile says nothing
    assert settings.temporal.address == "temporal.staging.example:7233"  # the profile over the file
    assert settings.temporal.namespace == "env-ns"  # a variable over the profile


def test_a_profile_may_name_the_sinergi_toml_it_starts_from_unless_one_is_given(tmp_path) -> None:
    (tmp_path / "xdg" / "sinergi").mkdir(parents=True)
    (tmp_path / "xdg" / "sinergi" / "prod.toml").write_text('[temporal]\ntask_queue = "prod-queue"\n')
    given = tmp_path / "given.toml"
    given.write_text('[temporal]\ntask_queue = "given-queue"\n')
    env = user_config(tmp_path, '[profiles.prod]\nconfig = "prod.toml"\n')
    assert settings_for(None, "prod", env).temporal.task_queue == "prod-queue"
    assert settings_for(str(given), "prod", env).temporal.task_queue == "given-queue"


@pytest.mark.parametrize(("text", "profile", "message"), [
    (STAGING, "production", "no profile 'production' (profiles there: demo, staging)"),
    ('[profiles.x.temporal]\nport = 1\n', "x", "profiles.x.temporal: port: unknown key"),
    ('[profiles.x.temporal]\nmax_cached_workflows = "many"\n', "x", "profiles.x.temporal: max_cached_workflows"),
    ('[profiles.x.tempral]\naddress = "a:1"\n', "x", "profiles.x: tempral: unknown section"),
    ('[profile.x]\n', None, "profile: unknown key (expected: profiles)"),
    ('[profiles.x\n', None, "invalid TOML"),
])
def test_a_mistake_in_the_user_config_names_the_file_and_the_key(tmp_path, text, profile, message) -> None:
    env = user_config(tmp_path, text)
    with pytest.raises(ConfigError, match="config.toml") as exc:
        settings_for(None, profile, env)
    assert message in str(exc.value)


def test_the_cli_takes_profile_on_the_command_or_before_it(tmp_path) -> None:
    env = {**user_config(tmp_path, STAGING), "SINERGI_CONFIG": "", "SINERGI_PROFILE": ""}

    def seconds(*args: str) -> int:
        result = CliRunner().invoke(cli, [*args], env=env, prog_name="sinergi")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)[0]["duration_seconds"]

    default = seconds("policy", "show", "--json")
    assert seconds("policy", "show", "--json", "--profile", "demo") < default
    assert seconds("--profile", "demo", "policy", "show", "--json") < default
    env["SINERGI_PROFILE"] = "demo"
    assert seconds("policy", "show", "--json") < default
    # A command's own option still wins over the profile.
    assert seconds("policy", "show", "--json", "--policy", "default") == default


def test_an_unknown_profile_on_the_cli_is_bad_input(tmp_path) -> None:
    env = {**user_config(tmp_path, STAGING), "SINERGI_CONFIG": "", "SINERGI_PROFILE": ""}
    result = CliRunner().invoke(cli, ["agencies", "list", "--profile", "prod", "--json"], env=env)
    assert result.exit_code == 2
    body = json.loads(result.stdout)
    assert body["error"] == "invalid_config" and "no profile 'prod'" in body["message"]
