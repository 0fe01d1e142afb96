"""What an engineer sees of a case: its structure, never the victim (SPEC "Roles": `"full_name": "•••"`).

Applied by the codec endpoint to every payload it decodes for a principal who may not see personal data
(`principals.may_see_personal`). Masking keeps what is structure and masks everything else, rather than
listing what is personal: a field no list foresaw (a decline's reason, a timeline line, a notice's text, a
failure's message) must not slip through. A JSON payload keeps every key, and of the values:

- numbers, booleans and null as they are (stages are strings, clocks' times are strings: below);
- a string that reads as a code — an id, a type, a stage, a state, an office, a time, a law's citation held in
  one of `CITATION_FIELDS` — as it is: one word of letters, digits and `_ . : / + -`, at most 64 characters,
  not a long run of digits (a phone number, a NIK) and no `@` (an e-mail);
- every other string — anything with a space in it, which is how prose and names look — as `MASK`;
- every value of `PERSONAL_FIELDS`, whatever it looks like, as `MASK` (a name can be one word);
- every value of the intake's `person`, codes too (`PERSON_OBJECTS`): sex, age and nationality together can
  single out a child.

A payload that is not JSON is masked whole: what the codec cannot read field by field, it does not show.
"""

from __future__ import annotations

import json
import re
from typing import Any

from temporalio.api.common.v1 import Payload

MASK = "•••"
JSON_ENCODINGS = (b"json/plain",)
# Passed as they are: they hold no value of anyone (`binary/null` is "no value").
HARMLESS_ENCODINGS = (b"binary/null",)

# The intake's `person` (sinergi.domain.intake.Person) and whatever else names or places the victim.
PERSONAL_FIELDS = frozenset({
    "full_name", "date_of_birth", "phone", "email", "address", "identity_document", "home_regency",
    "passport_number", "nik", "contact", "guardian", "family_contact", "return_to", "facility",
    "report_number", "placement_company", "recorded_by",
})
# Legal citations and the clocks' titles: sinergi's own words, with spaces, no one's data.
CITATION_FIELDS = frozenset({"law", "legal_source", "mandated_by", "title", "rule_source", "source"})
# Objects that describe the victim: every value in them is masked, codes too (sex, age, nationality together can
# single out a child), only their keys are shown.
PERSON_OBJECTS = frozenset({"person"})
_CODE = re.compile(r"[A-Za-z0-9_.:/+\-]{1,64}")
_DIGITS = re.compile(r"\d{8,}")
_MAX_DEPTH = 64


def _structural(value: str) -> bool:
    if not _CODE.fullmatch(value):
        return False
    # A phone number or NIK written as one run of digits; timestamps and ids keep their separators.
    return not _DIGITS.search(value)


def mask_value(value: Any, key: str | None = None, depth: int = 0) -> Any:
    """`value` as an engineer may see it (see the module's docstring)."""
    if depth > _MAX_DEPTH:
        return MASK
    if key in PERSONAL_FIELDS and value not in (None, "", [], {}):
        return MASK
    if key in PERSON_OBJECTS and isinstance(value, dict):
        return {k: (MASK if v not in (None, "", [], {}) else v) for k, v in value.items()}
    if isinstance(value, dict):
        return {k: mask_value(v, k, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(item, key, depth + 1) for item in value]
    if isinstance(value, str):
        if key in CITATION_FIELDS and "@" not in value and not _DIGITS.search(value) and len(value) <= 200:
            return value
        return value if _structural(value) else MASK
    return value


def mask_payload(payload: Payload) -> Payload:
    """A decoded payload as an engineer may see it: always re-serialised, never the bytes as they came."""
    encoding = payload.metadata.get("encoding", b"")
    if encoding in HARMLESS_ENCODINGS:
        return payload
    if encoding in JSON_ENCODINGS:
        try:
            value = mask_value(json.loads(payload.data))
        except (ValueError, RecursionError):
            value = MASK
        masked = Payload()
        masked.CopyFrom(payload)
        masked.data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return masked
    # Protobuf or bytes: not readable field by field here, so not shown at all.
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(MASK, ensure_ascii=False).encode())
