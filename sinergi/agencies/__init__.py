"""The shipped agreement registry (`sandbox`: a TOML file beside this module) and the loader of any
agencies file (SPEC `agencies.toml`); the models are `sinergi.domain.agencies`'."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from sinergi.domain.agencies import AgencyRegistry, Office
from sinergi.platform.tomlfiles import read_toml

BUILTIN_REGISTRIES = ("sandbox",)


class RegistryError(Exception):
    """An agencies file that cannot be used; each line names the office and the key."""


def load_registry(name_or_path: str | Path) -> AgencyRegistry:
    file = read_toml(name_or_path, package=__name__, shipped=BUILTIN_REGISTRIES, what="agencies",
                     error=RegistryError)
    label, raw = file.label, file.data
    unknown = set(raw) - {"agencies"}
    if unknown:
        raise RegistryError(f"{label}: unknown top-level key(s) {sorted(unknown)}: expected only [agencies.<office>]")
    errors: list[str] = []
    offices: dict[str, Office] = {}
    tables = raw.get("agencies", {})
    for office_id, table in tables.items() if isinstance(tables, dict) else [("", tables)]:
        if not isinstance(table, dict) or table.get("id", office_id) != office_id:
            errors.append(f"{label}: agencies{office_id and '.' + office_id}: expected an "
                          f"[agencies.{office_id or '<office>'}] table (its id is the table key)")
            continue
        try:
            offices[office_id] = Office.model_validate({"id": office_id, **table})
        except ValidationError as exc:
            for err in exc.errors():
                key = ".".join(str(p) for p in err["loc"]) or "(table)"
                errors.append(f"{label}: agencies.{office_id}.{key}: {err['msg']}")
    if errors:
        raise RegistryError("\n".join(errors))
    if not offices:
        raise RegistryError(f"{label}: no offices: add at least one [agencies.<office>] table")
    return AgencyRegistry(offices=offices)
