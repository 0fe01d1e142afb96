"""What the codec endpoint seals for a person (issue 24): the verified name on the events they enter.

An operator's CLI holds no keys: every payload it sends to Temporal is sealed by the gateway's `/codec/encode`,
which knows who asked (`identities`). So the gateway, the only holder of the keys besides the worker, writes
the identity itself:

- an event a named operator enters (`EventEnvelope` without a `sender`) gets
  `source = "operator:<verified name>"`, whatever the CLI claimed;
- an event entered on behalf of an office (`case event --as`) gets that office as its source, its `sender`
  rebuilt from the gateway's own registry (jurisdiction and agreement as the MoU says, not as the laptop says)
  and `entered_by = "operator:<verified name>"`: the case's timeline and the case record keep who typed it;
- every event gets `sent_at` from the gateway's clock: the case refuses an event sealed before the oldest one it
  still remembers from that sender (`authority.stale`), so a sealed event copied from a history cannot apply
  twice, and a laptop's clock cannot stretch that window;
- a new case opens under the deployment's policy only (`[policy] file`): not the demo's clocks, not a file of the
  laptop's own;
- only a named operator (a `sinergi admin operator` token) in a role that sees personal data seals anything.
  An engineer, the shared codec token, the dev UI session and the identity provider's users (the Temporal UI,
  which is read-only) read; they seal nothing, since a sealed payload of any shape — a page unlock, an
  activity's completion — is something a worker would act on.

docs/operators.md explains why the identity is bound here and not in the workflow.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import structlog
from temporalio.api.common.v1 import Payload

from sinergi.domain.agencies import AgencyRegistry
from sinergi.domain.policy import Policy
from sinergi.gateway.principals import Principal, may_see_personal

log = structlog.get_logger("sinergi.gateway.stamping")


class MayNotEnter(Exception):
    """The principal may not seal payloads (it reads only), or asked to seal an event it may not enter."""


def _event_envelope(value: Any) -> dict | None:
    if isinstance(value, dict) and isinstance(value.get("event"), dict) and "type" in value["event"] \
            and "event_id" in value["event"]:
        return value
    return None


def may_enter(principal: Principal) -> None:
    """`MayNotEnter` unless `principal` is a named operator in a role that enters cases (sees personal data)."""
    if principal.via != "operator" or not may_see_personal(principal.role):
        reason = ("engineers read cases, they enter nothing" if principal.role == "engineer"
                  else "only a named operator's token (SINERGI_TOKEN) seals what goes to a case")
        raise MayNotEnter(f"{principal.name}: {reason}")


def _opens_a_case(value: Any) -> bool:
    """A case's first input (`CaseInput` at opening): its intake and the policy it will run under."""
    return (isinstance(value, dict) and isinstance(value.get("intake"), dict) and isinstance(value.get("policy"), dict)
            and "case_id" in value and value.get("state") is None)


def _check_policy(value: dict, policy: Policy | None) -> None:
    """A laptop opens a case under the deployment's policy only: another one (`--policy demo`, a file of its own)
    would run a real case's legal deadlines on clocks of its choosing — the demo's seconds — and breach and escalate
    against real offices. Compared by name and clocks (the days off are resolved per year where each loads it)."""
    if policy is None:
        return
    given = value["policy"]
    if given.get("name") != policy.name or given.get("clocks") != policy.model_dump(mode="json")["clocks"]:
        raise MayNotEnter(f"cases open under this deployment's policy ({policy.name}) only, not "
                          f"{str(given.get('name'))[:40]!r}: drop --policy (or [policy] file) on this machine")


def stamp(payloads: list[Payload], principal: Principal, registry: AgencyRegistry | None,
          policy: Policy | None = None) -> list[Payload]:
    """The payloads to seal for `principal`: events carry its verified name; a new case runs under `policy`.
    `MayNotEnter` if it reads only, or asks for another policy."""
    if not payloads:
        return payloads
    may_enter(principal)
    out = []
    for payload in payloads:
        value = _json(payload)
        if _opens_a_case(value):
            _check_policy(value, policy)
        envelope = _event_envelope(value)
        if envelope is None:
            out.append(payload)
            continue
        event = envelope["event"]
        sender = envelope.get("sender")
        envelope["sent_at"] = datetime.now(UTC).isoformat()  # the gateway's clock, not the laptop's
        if sender is None:
            event["source"] = f"operator:{principal.name}"
            envelope.pop("entered_by", None)  # the source names the operator
        else:
            office_id = sender.get("office") if isinstance(sender, dict) else None
            office = registry.offices.get(office_id) if registry is not None and isinstance(office_id, str) else None
            if office is None:
                raise MayNotEnter(f"--as {office_id!r}: no such office in the gateway's agency registry")
            envelope["sender"] = office.sender.model_dump(mode="json")
            event["source"] = office.id
            envelope["entered_by"] = f"operator:{principal.name}"
            log.info("operator_entered_for_office", operator=principal.name, office=office.id,
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
    except (ValueError, RecursionError):
        return None
