"""Each office's secrets, never in configuration files: its Standard Webhooks secrets and, for an office
answering by e-mail, the passcode of its referral pages.

An office's `settings.inbound_secret_env` / `settings.outbound_secret_env` / `settings.passcode_env` name
environment variables holding them. `sinergi dev` (and tests) may instead keep generated ones in a 0600
JSON file under the state folder, so the sandbox, the worker and the gateway share them without setup.
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
    """Create (or complete) the dev secrets file: one inbound and one outbound secret per office, and a
    passcode per office that answers by e-mail."""
    stored: dict[str, dict[str, str]] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    changed = False
    for office in offices:
        entry = stored.setdefault(office.id, {})
        for direction in ("inbound", "outbound"):
            if direction not in entry:
                entry[direction] = new_secret()
                changed = True
        if office.adapter == "email" and "passcode" not in entry:
            entry["passcode"] = new_passcode()
            changed = True
    if changed:
        _write(path, stored)


def _write(path: Path, stored: dict[str, dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(stored, indent=2), "utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


# Read over the phone or written on the MoU's annex: no look-alike characters (Crockford's alphabet).
PASSCODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
PASSCODE_LENGTH = 10


def new_passcode() -> str:
    """A fresh passcode, grouped for reading aloud: `7Q2M9-XKD4B`."""
    code = "".join(secrets.choice(PASSCODE_ALPHABET) for _ in range(PASSCODE_LENGTH))
    return f"{code[:5]}-{code[5:]}"


def passcode_env(office: Office) -> str:
    return str(office.settings.get("passcode_env", f"SINERGI_{office.id.upper()}_PASSCODE"))


def office_passcode(office: Office, environ: Mapping[str, str] | None = None,
                    secrets_file: Path | None = None) -> str:
    """The passcode of the office's referral pages: from `settings.passcode_env`, else the dev secrets file."""
    environ = os.environ if environ is None else environ
    name = passcode_env(office)
    if environ.get(name):
        value = environ[name]
        # Five wrong tries lock a link for a while, but every mailed link is a door: a short passcode falls
        # to guessing across an office's links. As long as the ones sinergi makes, or it is not one.
        if len(value.replace("-", "").replace(" ", "")) < PASSCODE_LENGTH:
            raise MissingSecret(f"office {office.id}: the passcode in {name} is shorter than {PASSCODE_LENGTH} "
                                "characters: make one with `sinergi admin passcode rotate`")
        return value
    if secrets_file is not None:
        value = _stored(secrets_file).get(office.id, {}).get("passcode")
        if value:
            return value
    raise MissingSecret(f"office {office.id}: no referral-page passcode: set the environment variable {name}")


def rotate_dev_passcode(path: Path, office: Office) -> str:
    """A new passcode for `office` in the dev secrets file (the old one stops working); returns it."""
    stored: dict[str, dict[str, str]] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    code = stored.setdefault(office.id, {})["passcode"] = new_passcode()
    _write(path, stored)
    return code
