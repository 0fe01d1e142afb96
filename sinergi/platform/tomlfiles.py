"""Reading the TOML files sinergi is configured with: a shipped one by name, or a file by path.

The one place the policy and the agreement registry are read from (their loaders sit beside the shipped
files, in `sinergi.policies` and `sinergi.agencies`); what they hold is validated by the domain models.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TomlFile:
    label: str  # how errors name it: `policy 'default'`, or the file's path
    stem: str  # its name without folder or suffix
    data: dict[str, Any]


def read_toml(name_or_path: str | Path, *, package: str, shipped: tuple[str, ...], what: str,
              error: type[Exception]) -> TomlFile:
    """A shipped file of `package` by name (one of `shipped`), else the file at that path; `error` names the
    file and what went wrong (unreadable, not TOML)."""
    if str(name_or_path) in shipped:
        label = f"{what} '{name_or_path}'"
        text = resources.files(package).joinpath(f"{name_or_path}.toml").read_text("utf-8")
        stem = str(name_or_path)
    else:
        path = Path(name_or_path)
        label, stem = str(path), path.stem
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise error(f"{label}: cannot read the {what} file ({exc.strerror})") from exc
    try:
        return TomlFile(label, stem, tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{label}: not valid TOML: {exc}") from exc
