"""The user's own configuration: `config.toml` in `$XDG_CONFIG_HOME/sinergi/` (else `~/.config/sinergi/`), its
profiles, and the settings a command runs with once a profile is chosen.

A profile names the cluster and keys one person works with — a province office may talk to a staging and a
production cluster — without editing the deployment's `sinergi.toml`:

    [profiles.staging]
    config = "~/kalsel/staging.toml"          # optional: the sinergi.toml this profile starts from
    [profiles.staging.temporal]
    address = "temporal.staging.kalsel.example:7233"
    namespace = "kalsel-staging"
    [profiles.staging.codec]                  # any section and key of sinergi.toml
    keys_file = "staging-keys.json"           # relative paths: against this file's folder
    [profiles.staging.records]
    url = "postgresql://sinergi@records.staging.kalsel.example/sinergi"

It is chosen with `--profile NAME`, else `SINERGI_PROFILE`, else the profile named `default` if there is one.
From lowest to highest, what a command runs with: the built-in defaults; the sinergi.toml (`--config`, else
`SINERGI_CONFIG`, else the profile's `config`, else `./sinergi.toml`); the profile's sections; the
`SINERGI_<SECTION>_<KEY>` variables; the command's own options. The closer a setting is to the command being
typed, the more it weighs: a variable exported in a shell beats a profile written once.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sinergi.commands.language import user_config_file
from sinergi.platform.config import BUILTIN_AGENCIES, BUILTIN_POLICIES, ConfigError, Settings, load_settings

PROFILE_ENV = "SINERGI_PROFILE"
DEFAULT_PROFILE = "default"
_FILE_NAMES = {("policy", "file"): BUILTIN_POLICIES, ("agencies", "file"): BUILTIN_AGENCIES}


def user_config_path(env: Mapping[str, str]) -> Path:
    """`$XDG_CONFIG_HOME/sinergi/config.toml`, else `~/.config/sinergi/config.toml` (`language.user_config_file`,
    which the CLI reads its language with before anything heavy is imported)."""
    return Path(user_config_file(env))


def read_profiles(path: Path) -> dict[str, dict[str, Any]]:
    """The profiles of the user's config file (none if it does not exist); a bad file is a ConfigError."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the user configuration: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    unknown = sorted(set(data) - {"profiles"})
    if unknown:
        raise ConfigError(f"{path}: {unknown[0]}: unknown key (expected: profiles)")
    profiles = data.get("profiles", {})
    bad = [name for name, table in profiles.items() if not isinstance(table, dict)]
    if bad:
        raise ConfigError(f"{path}: profiles.{bad[0]}: expected a table")
    return profiles


def chosen_profile(option: str | None, env: Mapping[str, str], profiles: Mapping[str, Any],
                   path: Path) -> str | None:
    """The profile in force: `--profile`, else SINERGI_PROFILE, else `default` if the file has one."""
    name = option or env.get(PROFILE_ENV) or None
    if name is None:
        return DEFAULT_PROFILE if DEFAULT_PROFILE in profiles else None
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(f"{path}: no profile {name!r} (profiles there: {known})")
    return name


def settings_for(config_path: str | None, profile: str | None, env: Mapping[str, str] | None = None) -> Settings:
    """The settings a command runs with: the sinergi.toml, the chosen profile over it, the environment over both."""
    env = os.environ if env is None else env
    path = user_config_path(env)
    profiles = read_profiles(path)
    name = chosen_profile(profile, env, profiles, path)
    if name is None:
        return load_settings(config_path, env)
    table = dict(profiles[name])
    base_file = table.pop("config", None)
    # The operator's token (SPEC: SINERGI_TOKEN, or the profile): this file is the user's own, like gh's hosts.
    token = table.pop("token", None)
    if token is not None and not isinstance(token, str):
        raise ConfigError(f"{path}: profiles.{name}.token: expected the token string `sinergi admin operator add` "
                          "printed")
    if base_file is not None and not isinstance(base_file, str):
        raise ConfigError(f"{path}: profiles.{name}.config: expected a path string")
    if config_path is None and not env.get("SINERGI_CONFIG") and base_file:
        config_path = str(_absolute(base_file, path.parent))
    overlay = _as_variables(table, f"{path}: profiles.{name}", path.parent)
    # Under the environment: a SINERGI_<SECTION>_<KEY> set in the shell still wins over the profile.
    settings = load_settings(config_path, {**overlay, **env})
    if token:
        settings.codec = settings.codec.with_profile_token(token)
    return settings


def _as_variables(table: Mapping[str, Any], where: str, folder: Path) -> dict[str, str]:
    """A profile's sections as the SINERGI_<SECTION>_<KEY> variables `load_settings` reads, checked first so a
    mistake names the profile, and with its paths made absolute against the user config's folder."""
    sections = Settings.model_fields
    out: dict[str, str] = {}
    for section, values in table.items():
        model = sections[section].annotation if section in sections and section != "config_dir" else None
        if model is None or not isinstance(model, type) or not issubclass(model, BaseModel):
            known = ", ".join(["config", *(s for s in sections if s != "config_dir")])
            raise ConfigError(f"{where}: {section}: unknown section (expected one of: {known})")
        if not isinstance(values, dict):
            raise ConfigError(f"{where}.{section}: expected a table")
        try:
            checked = model.model_validate(values)
        except ValidationError as exc:
            raise ConfigError("\n".join(_describe(where, section, err) for err in exc.errors())) from None
        fields = {(f.alias or n): n for n, f in model.model_fields.items()}
        for key in values:
            value = getattr(checked, fields[key])
            if (section, key) in _FILE_NAMES and value not in _FILE_NAMES[(section, key)]:
                value = _absolute(value, folder)
            out[f"SINERGI_{section}_{key}".upper()] = _as_text(value, folder)
    return out


def _as_text(value: Any, folder: Path) -> str:
    if value is None:
        return ""  # an empty variable clears an optional setting
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Path):
        return str(_absolute(value, folder))
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _absolute(value: str | Path, folder: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (folder / path).resolve()


def _describe(where: str, section: str, err: Mapping[str, Any]) -> str:
    key = ".".join(str(part) for part in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{where}.{section}: {key}: unknown key"
    return "{where}.{section}: {key}: {problem}, got {value!r}".format(
        where=where, section=section, key=key, problem=err["msg"], value=err.get("input"))
