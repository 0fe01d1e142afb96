"""Victim data is sacred: the name, phone and date of birth never appear in Temporal history or
search attributes in plain text (UU 21/2007 Art. 44; UU 27/2022)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload

from sinergi.testing.cases import SAMPLE_DOB, SAMPLE_NAME, SAMPLE_PHONE, harness

SECRETS = [SAMPLE_NAME, SAMPLE_PHONE, SAMPLE_DOB, SAMPLE_NAME.split()[0], "5550 1234", "2001-03-14"]


def payloads_in(message: Message):
    """Every Payload anywhere inside a protobuf message."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            for item in value.values():
                if isinstance(item, Message):
                    yield from payloads_in(item)
        elif isinstance(value, Sequence):
            for item in value:
                yield from payloads_in(item)
        else:
            yield from payloads_in(value)


def _never_encoded(event, payload: Payload) -> bool:
    """Search attributes, the SDK's patch markers and a local activity's bookkeeping (its sequence number,
    attempt, type and times: the `data` detail of its marker) are never encoded; none holds case data. A
    local activity's result is encoded like any other."""
    if event.HasField("marker_recorded_event_attributes"):
        marker = event.marker_recorded_event_attributes
        if marker.marker_name == "core_patch":
            return any(payload in list(p.payloads) for p in marker.details.values())
        if marker.marker_name == "core_local_activity" and "data" in marker.details:
            return payload in list(marker.details["data"].payloads)
    for attributes in (event.upsert_workflow_search_attributes_event_attributes.search_attributes,
                       event.workflow_execution_started_event_attributes.search_attributes):
        if any(p is payload or p == payload for p in attributes.indexed_fields.values()):
            return True
    return False


def forms(text: str) -> list[bytes]:
    raw = text.encode()
    return [raw, base64.b64encode(raw), raw.lower(), raw.upper()]


async def test_raw_history_and_search_attributes_never_hold_the_victims_identity(dev_env):
    async with harness(dev_env.client) as h:
        case_id = await h.open()
        for type_, data in [
            ("identification.screening_completed", {"outcome": "presumed_victim"}),
            ("identification.police_report_filed", {"report_number": "LP/77"}),
            ("protection.shelter_admitted", {"facility": "RPTC Banjarbaru"}),
            ("protection.safe_placement_confirmed", {}),
        ]:
            await h.send(case_id, type_, **data)
        handle = h.cases.handle(case_id)
        for _ in range(100):  # wait until the referrals reached the (sandbox) agencies
            status = await h.cases.status(case_id)
            if all(r.status != "pending" for r in status.referrals):
                break
            await asyncio.sleep(0.1)
        assert h.ledger.for_case(case_id), "the case must have delivered data for this test to mean anything"
        assert any(m.data.get("person", {}).get("full_name") == SAMPLE_NAME for _, m in h.ledger.for_case(case_id))

        history = await handle.fetch_history()
        # Search attributes are never encrypted (TEMPORAL.md); they are checked below on their own.
        payloads = [p for event in history.events for p in payloads_in(event)
                    if p.metadata.get("encoding") != b"binary/encrypted" and not _never_encoded(event, p)]
        assert payloads == [], [(p.metadata, p.data[:40]) for p in payloads]
        encrypted = [p for event in history.events for p in payloads_in(event)
                     if p.metadata.get("encoding") == b"binary/encrypted"]
        assert len(encrypted) > 10, "the intake, events, results, summaries and details are all encrypted"
        raw = history.to_json().encode() + b"".join(event.SerializeToString() for event in history.events)
        for secret in SECRETS:
            for form in forms(secret):
                assert form not in raw, f"{secret!r} found in history"

        description = await handle.describe()
        attributes = " ".join(str(pair.value) for pair in description.typed_search_attributes)
        assert case_id in attributes
        for secret in SECRETS:
            assert secret not in attributes
