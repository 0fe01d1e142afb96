"""What an engineer sees of a case: its structure, never the victim (SPEC "Roles": `"full_name": "•••"`).

Applied by the codec endpoint to every payload it decodes for a principal who may not see personal data
(`principals.may_see_personal`). A JSON payload keeps every key, id, stage, referral state and clock; the value
of each personal field (`PERSONAL_FIELDS`, at any depth) and of each free text a person wrote
(`FREE_TEXT_FIELDS`, which can quote one) becomes `MASK`. A payload that is not JSON (protobuf, binary) is
replaced whole by a masked JSON string: what the codec cannot read field by field, it does not show.
"""

from __future__ import annotations

import json
from typing import Any

from temporalio.api.common.v1 import Payload

MASK = "•••"
JSON_ENCODINGS = (b"json/plain",)
# Passed as they are: they hold no value of anyone (`binary/null` is "no value").
HARMLESS_ENCODINGS = (b"binary/null",)

# The intake's `person` (sinergi.domain.intake.Person) and whatever else names or reaches the victim.
PERSONAL_FIELDS = frozenset({
    "full_name", "date_of_birth", "phone", "email", "address", "identity_document", "home_regency",
    "passport_number", "nik", "contact", "guardian", "family_contact",
})
# Text a person typed, which can quote a name or a phone number.
FREE_TEXT_FIELDS = frozenset({"note", "notes", "remarks", "comment", "statement", "narrative", "description_text"})
MASKED_FIELDS = PERSONAL_FIELDS | FREE_TEXT_FIELDS


def mask_value(value: Any) -> Any:
    """`value` with every masked field's value replaced, at any depth; everything else as it was."""
    if isinstance(value, dict):
        return {key: (MASK if key in MASKED_FIELDS and value[key] not in (None, "", [], {}) else mask_value(item))
                for key, item in value.items()}
    if isinstance(value, list):
        return [mask_value(item) for item in value]
    return value


def mask_payload(payload: Payload) -> Payload:
    """A decoded payload as an engineer may see it."""
    encoding = payload.metadata.get("encoding", b"")
    if encoding in HARMLESS_ENCODINGS:
        return payload
    if encoding in JSON_ENCODINGS:
        try:
            value = json.loads(payload.data)
        except ValueError:
            value = MASK
        else:
            masked_value = mask_value(value)
            if masked_value == value:
                return payload  # nothing personal in it: byte for byte as it was
            value = masked_value
        masked = Payload()
        masked.CopyFrom(payload)
        masked.data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return masked
    # Protobuf or bytes: not readable field by field here, so not shown at all.
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(MASK, ensure_ascii=False).encode())
