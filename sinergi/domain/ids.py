"""Case identity: ids that carry no personal data."""

from __future__ import annotations

import re
import secrets

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CASE_ID_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,63}$")
EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"


def new_case_id(province: str, year: int) -> str:
    """A fresh case id `<PROVINCE>-<YEAR>-<8 Crockford base32 characters>`."""
    suffix = "".join(secrets.choice(CROCKFORD) for _ in range(8))
    return f"{province.upper()}-{year}-{suffix}"


def check_case_id(case_id: str) -> str:
    """Return `case_id` if it is a valid case id, else raise ValueError saying what is expected."""
    if not CASE_ID_PATTERN.match(case_id):
        raise ValueError(
            f"case id {case_id!r} is not valid: expected upper-case letters, digits and '-', "
            "3 to 64 characters, starting with a letter or digit (e.g. KALSEL-2026-7Q2M9XKD)"
        )
    return case_id


def workflow_id(case_id: str) -> str:
    """The Temporal workflow id of a case."""
    return f"case-{case_id}"
