"""Adapters are plugins found through the `sinergi.adapters` entry-point group; built-ins register the
same way a third party's would (pyproject.toml)."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import structlog

from sinergi.adapters.base import AdapterContext, AgencyAdapter

GROUP = "sinergi.adapters"
log = structlog.get_logger(__name__)


class DuplicateAdapter(Exception):
    """Two plugins claim one adapter name: refuse to guess which one sends victims' data."""


def discover(points: list[EntryPoint] | None = None) -> dict[str, type]:
    """Adapter classes by name. A plugin that fails to load is logged and skipped, never fatal."""
    found: dict[str, type] = {}
    origins: dict[str, str] = {}
    for point in points if points is not None else list(entry_points(group=GROUP)):
        if point.name in found:
            raise DuplicateAdapter(
                f"adapter name {point.name!r} is registered twice: by {origins[point.name]} and by {point.value}; "
                "uninstall one of the plugins or rename its entry point"
            )
        try:
            adapter_class = point.load()
        except Exception as exc:  # noqa: BLE001 - any import error in a plugin must not stop the worker
            log.warning("adapter_plugin_skipped", adapter=point.name, target=point.value, error=repr(exc))
            continue
        found[point.name] = adapter_class
        origins[point.name] = point.value
    return found


def build_adapters(context: AdapterContext, names: set[str] | None = None,
                   classes: dict[str, type] | None = None) -> dict[str, AgencyAdapter]:
    """One instance of each adapter in use, sharing the context (and its one HTTP session)."""
    classes = classes if classes is not None else discover()
    missing = (names or set()) - set(classes)
    if missing:
        raise LookupError(f"no adapter plugin named {', '.join(sorted(missing))}; installed: "
                          f"{', '.join(sorted(classes)) or 'none'}")
    return {name: cls(context) for name, cls in classes.items() if names is None or name in names}
