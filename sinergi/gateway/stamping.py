"""What the codec endpoint seals for a person (issue 24): the verified name on the events they enter.

An operator's CLI holds no keys: every payload it sends to Temporal is sealed by the gateway's `/codec/encode`,
which knows who asked (`identities`). So the gateway, the only holder of the keys besides the worker, writes
the identity itself: an event an operator enters (`EventEnvelope` without a `sender`) gets
`source = "operator:<verified name>"` whatever the CLI claimed; an event entered on behalf of an office
(`case event --as`) keeps the office as its source and is logged with the operator's name. An engineer enters
nothing: an event or an intake sent to be sealed for one is refused. docs/operators.md explains why the
identity is bound here and not in the workflow.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from temporalio.api.common.v1 import Payload

from sinergi.gateway.principals import Principal, may_see_personal

log = structlog.get_logger("sinergi.gateway.stamping")


class MayNotEnter(Exception):
    """The principal may not enter what it asked to seal (an engineer's event or intake)."""


def _event_envelope(value: Any) -> dict | None:
    if isinstance(value, dict) and isinstance(value.get("event"), dict) and "type" in value["event"] \
            and "event_id" in value["event"]:
        return value
    return None


def _an_intake(value: Any, depth: int = 0) -> bool:
    if not isinstance(value, dict) or depth > 3:
        return False
    if "person" in value and "consent" in value:
        return True
    return any(_an_intake(item, depth + 1) for item in value.values())


def stamp(payloads: list[Payload], principal: Principal) -> list[Payload]:
    """The payloads to seal for `principal`: events carry its verified name. `MayNotEnter` for an engineer's."""
    if principal.via not in ("operator", "oidc"):
        # The shared codec token and the dev UI's session name no person: nothing they seal is an entry.
        writes = any(_writes(p) for p in payloads)
        if writes:
            raise MayNotEnter(f"{principal.name} names no person: events and intakes are sealed only for a "
                              "named operator (SINERGI_TOKEN)")
        return payloads
    out = []
    for payload in payloads:
        value = _json(payload)
        envelope = _event_envelope(value)
        if (envelope is not None or _an_intake(value)) and not may_see_personal(principal.role):
            raise MayNotEnter(f"{principal.name} is an engineer: engineers read cases, they enter nothing")
        if envelope is None:
            out.append(payload)
            continue
        event = envelope["event"]
        if envelope.get("sender") is None:
            event["source"] = f"operator:{principal.name}"
        else:
            log.info("operator_entered_for_office", operator=principal.name, office=envelope["sender"].get("office"),
                     event_id=event.get("event_id"), case_id=event.get("case_id"), type=event.get("type"))
        stamped = Payload()
        stamped.CopyFrom(payload)
        stamped.data = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
        out.append(stamped)
    return out


def _json(payload: Payload) -> Any:
    if payload.metadata.get("encoding") != b"json/plain":
        return None
    try:
        return json.loads(payload.data)
    except ValueError:
        return None


def _writes(payload: Payload) -> bool:
    value = _json(payload)
    return _event_envelope(value) is not None or _an_intake(value)
