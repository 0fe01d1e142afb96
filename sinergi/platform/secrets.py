"""Standard Webhooks secrets of each office, never in configuration files.

An office's `settings.inbound_secret_env` / `settings.outbound_secret_env` name environment variables
holding `whsec_...` secrets. `sinergi dev` (and tests) may instead keep generated secrets in a
0600 JSON file under the state folder, so the sandbox and the gateway share them without setup.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from sinergi.domain.agencies import Office

Direction = Literal["inbound", "outbound"]
DEV_SECRETS = "agency-secrets.json"  # under `[dev] state_dir`


class MissingSecret(Exception):
    """An office has no secret for a direction; the message names the office and the variable to set."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def env_name(office: Office, direction: Direction) -> str:
    default = f"SINERGI_{office.id.upper()}_{'IN' if direction == 'inbound' else 'OUT'}"
    return str(office.settings.get(f"{direction}_secret_env", default))


def office_secret(office: Office, direction: Direction, environ: Mapping[str, str] | None = None,
                  secrets_file: Path | None = None) -> str:
    """The office's secret for `direction`: from its environment variable, else from the dev secrets file."""
    environ = os.environ if environ is None else environ
    name = env_name(office, direction)
    if environ.get(name):
        return environ[name]
    if secrets_file is not None:
        value = _stored(secrets_file).get(office.id, {}).get(direction)
        if value:
            return value
    raise MissingSecret(f"office {office.id}: no {direction} secret: set the environment variable {name} "
                        "to a Standard Webhooks secret (whsec_...)")


_read: dict[Path, tuple[tuple[int, int, int], dict[str, dict[str, str]]]] = {}


def _stored(path: Path) -> dict[str, dict[str, str]]:
    """The dev secrets file, parsed again only when it changed (it is read per delivery and per event)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return {}
    version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    known = _read.get(path)
    if known is None or known[0] != version:
        known = _read[path] = (version, json.loads(path.read_text("utf-8")))
    return known[1]


def ensure_dev_secrets(path: Path, offices: Iterable[Office]) -> None:
    """Create (or complete) the dev secrets file: one inbound and one outbound secret per office."""
    stored: dict[str, dict[str, str]] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    changed = False
    for office in offices:
        entry = stored.setdefault(office.id, {})
        for direction in ("inbound", "outbound"):
            if direction not in entry:
                entry[direction] = new_secret()
                changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=2), "utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(path)
