"""Reading docker-compose.yml the way `docker compose` would, as far as the tests need: interpolation of
`${VAR:-default}` with its defaults, and the sinergi services (those running the sinergi image)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
SANDBOX_OVERLAY = REPO / "deploy" / "compose.sandbox.yml"


def _schema() -> Path:
    """The Compose Specification schema in the shared folder beside the repository (shared/schemas).

    CI may clone elsewhere: $SINERGI_SHARED names the shared folder then; /work/shared is this workplace's.
    """
    folders = [Path(os.environ["SINERGI_SHARED"])] if os.environ.get("SINERGI_SHARED") else []
    folders += [REPO.parent / "shared", Path("/work/shared")]
    candidates = [folder / "schemas" / "compose-spec.json" for folder in folders]
    return next((c for c in candidates if c.is_file()), candidates[0])


SCHEMA = _schema()

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::?[-?](?P<default>[^}]*))?\}")


def load(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    return yaml.safe_load(path.read_text("utf-8"))


def interpolate(value: Any) -> str:
    """A value as compose sees it with no variable set: each `${VAR:-default}` becomes its default."""
    return _VARIABLE.sub(lambda m: m.group("default") or "", str(value)).replace("$$", "$")


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: interpolate(value) for name, value in env.items()}


def is_sinergi(service: dict[str, Any]) -> bool:
    return "build" in service or str(service.get("image", "")).startswith("${SINERGI_IMAGE")


def sinergi_services(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in doc["services"].items() if is_sinergi(svc)}


def one_shot(service: dict[str, Any]) -> bool:
    return service.get("restart") == "no"
