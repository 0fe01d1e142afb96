"""`POST /v1/agencies/{office}/events` on loopback against the real dev server: every status it answers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import pytest
from gateway_kit import (
    LEAD,
    OTHER_PROVINCE,
    OTHER_REGENCY,
    POLICE,
    PROVINCE_OFFICE,
    REFERRED_ABROAD,
    TEST_SETTINGS,
    envelope,
    gateway_for,
    minutes_ago,
)
from structlog.testing import capture_logs

from sinergi.cases import Cases
from sinergi.testing.cases import event, intake

CONSENT = {"scope": "services"}


@pytest.fixture(scope="module")
async def kit(dev_env, tmp_path_factory):
    async with gateway_for(dev_env, tmp_path_factory.mktemp("gateway-events")) as kit:
        yield kit


@pytest.fixture(scope="module")
async def case_id(kit):
    return await kit.open_case()


async def assert_refused(kit, case_id, response, status: int, error: str) -> dict:
    body = await response.json()
    assert response.status == status, body
    assert body["error"] == error, body
    assert set(body) == {"error", "message", "details"}
    return body


# --- applied, duplicate, refused ------------------------------------------------------------------


async def test_a_signed_event_from_a_party_is_applied_with_202_and_its_outcome(kit, case_id):
    before = await kit.history_length(case_id)
    event = envelope(case_id, "consent.recorded", CONSENT)
    response = await kit.post(LEAD, event)
    assert response.status == 202
    assert await response.json() == {"case_id": case_id, "event_id": event["event_id"], "stage": "identification",
                                     "duplicate": False}
    assert await kit.settle(case_id) > before


async def test_a_replayed_event_with_a_fresh_timestamp_is_a_200_duplicate_applied_once(kit, case_id):
    event = envelope(case_id, "consent.recorded", CONSENT)
    assert (await kit.post(LEAD, event)).status == 202
    after_first = await kit.settle(case_id)
    # Same webhook-id and body, signed again a moment later: what a retrying agency system sends.
    replay = await kit.post(LEAD, event)
    assert replay.status == 200
    assert (await replay.json())["duplicate"] is True
    # The identical request (same timestamp too), as an eavesdropper would replay it.
    headers = kit.sign(LEAD, json.dumps(event).encode(), event["event_id"], at=minutes_ago(1))
    again = await kit.post(LEAD, event, headers=headers)
    assert again.status == 200
    assert await kit.history_length(case_id) == after_first


async def test_an_event_the_case_does_not_accept_now_is_409_with_the_reason_and_accepted_types(kit, case_id):
    before = await kit.history_length(case_id)
    response = await kit.post(LEAD, envelope(case_id, "reintegration.plan_agreed"))
    body = await assert_refused(kit, case_id, response, 409, "event_refused")
    assert "plan_agreed" in body["details"]["reason"]
    assert "consent.recorded" in body["details"]["accepted"]
    assert await kit.history_length(case_id) == before


async def test_an_event_for_an_unknown_case_is_404(kit):
    response = await kit.post(LEAD, envelope("T-NOSUCHCASE", "consent.recorded", CONSENT))
    await assert_refused(kit, None, response, 404, "case_not_found")


async def test_the_signing_office_is_the_source_whatever_the_body_claims(kit, case_id):
    event = envelope(case_id, "consent.recorded", {"scope": "legal"}, source="lpsk")
    assert (await kit.post(LEAD, event)).status == 202
    timeline = await kit.harness.cases.timeline(case_id)
    text = " ".join(entry.text for entry in timeline.entries)
    assert LEAD in text and "lpsk" not in text


# --- authorization --------------------------------------------------------------------------------


async def test_an_office_sending_an_event_type_outside_its_agreement_is_403(kit, case_id):
    before = await kit.history_length(case_id)
    response = await kit.post(POLICE, envelope(case_id, "consent.recorded", CONSENT))
    body = await assert_refused(kit, case_id, response, 403, "not_allowed")
    assert "consent.recorded" in body["message"]
    assert await kit.history_length(case_id) == before


async def test_no_office_may_send_an_internal_event_type(kit, case_id):
    response = await kit.post(LEAD, envelope(case_id, "case.opened"))
    await assert_refused(kit, case_id, response, 403, "not_allowed")


@pytest.mark.parametrize("office", [OTHER_PROVINCE, OTHER_REGENCY, PROVINCE_OFFICE])
async def test_an_office_not_part_of_the_case_is_403(kit, case_id, office):
    # PROVINCE_OFFICE covers the case's province and regency: covering is not taking part (SPEC "Authority").
    before = await kit.history_length(case_id)
    response = await kit.post(office, envelope(case_id, "consent.recorded", CONSENT))
    await assert_refused(kit, case_id, response, 403, "not_a_party")
    assert await kit.history_length(case_id) == before


async def test_an_office_the_case_was_referred_to_is_a_party_outside_any_province(kit, case_id):
    response = await kit.post(REFERRED_ABROAD, envelope(case_id, "protection.shelter_admitted", {"facility": "KBRI"}))
    assert response.status == 202


async def test_a_party_that_does_not_lead_the_case_may_not_decide_for_it(kit, case_id):
    before = await kit.history_length(case_id)
    response = await kit.post(REFERRED_ABROAD, envelope(case_id, "consent.recorded", CONSENT))
    body = await assert_refused(kit, case_id, response, 403, "not_allowed")
    assert f"lead office ({LEAD})" in body["message"]
    assert await kit.history_length(case_id) == before


async def test_after_a_transfer_the_old_lead_is_refused_its_decisions_and_the_new_lead_accepted(kit):
    case_id = await kit.open_case()
    assert (await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT))).status == 202
    moved = await kit.post(LEAD, envelope(case_id, "case.transferred", {"province": "JATIM"}))
    assert moved.status == 202
    await kit.settle(case_id)  # the transfer re-routes the referrals and finds the new lead
    refused = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT))
    await assert_refused(kit, case_id, refused, 403, "not_allowed")
    # Covering JATIM does not make UPTD PPA JATIM a party; JATIM's BP3MI office leads now.
    outsider = await kit.post(OTHER_PROVINCE, envelope(case_id, "consent.recorded", CONSENT))
    await assert_refused(kit, case_id, outsider, 403, "not_a_party")
    assert (await kit.post("bp3mi_jatim", envelope(case_id, "consent.recorded", CONSENT))).status == 202


async def test_a_transfer_entered_by_an_operator_moves_the_lead_at_once(kit):
    # Authority is the case's own answer at the moment it applies the event: nothing the gateway
    # remembered of an earlier accepted event (here, a second ago) lets the old lead decide again.
    case_id = await kit.open_case()
    assert (await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT))).status == 202
    await kit.harness.cases.send(event(case_id, "case.transferred", province="JATIM"))
    before = await kit.settle(case_id)  # the transfer re-routes the referrals
    refused = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT))
    await assert_refused(kit, case_id, refused, 403, "not_allowed")
    assert await kit.history_length(case_id) == before


async def test_an_office_outside_the_case_hears_403_not_that_its_event_was_a_duplicate(kit):
    case_id = await kit.open_case()
    applied = envelope(case_id, "consent.recorded", CONSENT)
    assert (await kit.post(LEAD, applied)).status == 202
    again = await kit.post(OTHER_PROVINCE, applied)
    body = await assert_refused(kit, case_id, again, 403, "not_a_party")
    assert "stage" not in json.dumps(body)


async def test_a_finished_case_refuses_an_outsider_with_403_and_a_party_with_409(kit):
    case_id = await kit.open_case()
    await kit.harness.cases.handle(case_id).terminate("test: the run is over")
    outsider = await kit.post(OTHER_PROVINCE, envelope(case_id, "consent.recorded", CONSENT))
    body = await assert_refused(kit, case_id, outsider, 403, "not_a_party")
    assert "closed" not in body["message"]
    party = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT))
    body = await assert_refused(kit, case_id, party, 409, "event_refused")
    assert "closed" in body["message"]


# --- signatures -----------------------------------------------------------------------------------


async def test_a_forged_signature_is_401(kit, case_id):
    event = envelope(case_id, "consent.recorded", CONSENT)
    response = await kit.post(LEAD, event, secret_of="nobody-knows-this-office")
    body = await assert_refused(kit, case_id, response, 401, "invalid_signature")
    assert body["message"] == "no matching signature"


async def test_another_offices_valid_signature_is_401(kit, case_id):
    response = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT), secret_of=POLICE)
    await assert_refused(kit, case_id, response, 401, "invalid_signature")


async def test_a_signature_older_than_five_minutes_is_401(kit, case_id):
    response = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT), at=minutes_ago(6))
    body = await assert_refused(kit, case_id, response, 401, "invalid_signature")
    assert "5 minutes" in body["message"]


async def test_a_signature_from_the_future_is_401(kit, case_id):
    response = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT), at=minutes_ago(-6))
    await assert_refused(kit, case_id, response, 401, "invalid_signature")


async def test_missing_signature_headers_are_401(kit, case_id):
    response = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT), signed=False)
    body = await assert_refused(kit, case_id, response, 401, "invalid_signature")
    assert "missing" in body["message"]


@pytest.mark.parametrize("garbled", ["v1", "v1,!!!notbase64", "v1,a,b", "v2,abc"])
async def test_a_garbled_signature_header_is_401(kit, case_id, garbled):
    event = envelope(case_id, "consent.recorded", CONSENT)
    response = await kit.post(LEAD, event, headers={"webhook-signature": garbled})
    await assert_refused(kit, case_id, response, 401, "invalid_signature")


async def test_an_unknown_office_is_answered_exactly_like_a_bad_signature(kit, case_id):
    event = envelope(case_id, "consent.recorded", CONSENT)
    unknown = await kit.post("no_such_office", event)
    forged = await kit.post(LEAD, event, secret_of="no_such_office")
    assert unknown.status == forged.status == 401
    assert await unknown.json() == await forged.json()


# --- malformed requests ---------------------------------------------------------------------------


async def test_an_invalid_event_is_400_naming_each_bad_field(kit, case_id):
    event = envelope(case_id, "identification.screening_completed", {"outcome": "maybe", "colour": "red"},
                     occurred_at="yesterday")
    response = await kit.post(LEAD, event)
    body = await assert_refused(kit, case_id, response, 400, "invalid_event")
    fields = {problem["field"] for problem in body["details"]}
    assert fields == {"occurred_at", "data.outcome", "data.colour"}


async def test_an_unknown_event_type_is_400_on_the_type_field(kit, case_id):
    response = await kit.post(LEAD, envelope(case_id, "case.teleported"))
    body = await assert_refused(kit, case_id, response, 400, "invalid_event")
    assert [p["field"] for p in body["details"]] == ["type"]


async def test_a_webhook_id_other_than_the_event_id_is_400(kit, case_id):
    response = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT), msg_id="msg-other")
    await assert_refused(kit, case_id, response, 400, "webhook_id_mismatch")


@pytest.mark.parametrize("body, problem", [
    (b'{"event_id": "\xff\xfe"}', "UTF-8"),
    (b"[" * 2000 + b"]" * 2000, "nested"),
    (b'{"a":' * 40 + b"1" + b"}" * 40, "nested"),
    (b'["an", "array"]', "object"),
    (b"{not json", "JSON"),
    (b'{"event_id": NaN}', "JSON"),
    (b"", "JSON"),
])
async def test_a_malformed_body_is_400_even_when_signed(kit, case_id, body, problem):
    headers = kit.sign(LEAD, body.decode("utf-8", "replace").encode(), "msg-1")
    response = await kit.post(LEAD, body, headers=headers, signed=False)
    result = await assert_refused(kit, case_id, response, 400, "invalid_body")
    assert problem in result["message"]


async def test_a_body_over_max_body_bytes_is_413(kit, case_id):
    event = envelope(case_id, "consent.recorded", CONSENT, padding="x" * TEST_SETTINGS.max_body_bytes)
    response = await kit.post(LEAD, event)
    await assert_refused(kit, case_id, response, 413, "payload_too_large")


async def test_a_chunked_body_over_max_body_bytes_is_413(kit, case_id):
    async def chunks():
        for _ in range(10):
            yield b" " * 1024

    response = await kit.client.post(f"/v1/agencies/{LEAD}/events", data=chunks(),
                                     headers={"Content-Type": "application/json"})
    await assert_refused(kit, case_id, response, 413, "payload_too_large")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=latin-1", ""])
async def test_a_body_that_is_not_utf8_json_by_its_content_type_is_415(kit, case_id, content_type):
    response = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT),
                              content_type=content_type)
    await assert_refused(kit, case_id, response, 415, "unsupported_media_type")


async def test_a_client_too_slow_to_send_its_body_gets_408(kit):
    reader, writer = await asyncio.open_connection(*kit.address)
    writer.write(f"POST /v1/agencies/{LEAD}/events HTTP/1.1\r\nHost: x\r\n"
                 "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"event_id\":".encode())
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 408")


@pytest.mark.parametrize("framing", [b"Content-Length: 200\r\n\r\n{\"event_id\":",
                                     b"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"eve"])
async def test_a_client_hanging_up_mid_body_is_a_client_error_not_a_gateway_bug(kit, framing):
    with capture_logs() as logs:
        _, writer = await asyncio.open_connection(*kit.address)
        writer.write(f"POST /v1/agencies/{LEAD}/events HTTP/1.1\r\nHost: x\r\n"
                     "Content-Type: application/json\r\n".encode() + framing)
        await writer.drain()
        writer.close()
        for _ in range(50):
            if any(line["event"] == "gateway_event" for line in logs):
                break
            await asyncio.sleep(0.02)
    assert [line.get("error") for line in logs if line["event"] == "gateway_event"] == ["incomplete_body"]
    assert not [line for line in logs if line["event"] == "gateway_bug"]


async def test_unknown_routes_and_methods_answer_json_errors(kit):
    missing = await kit.client.get("/v1/nothing")
    assert missing.status == 404 and (await missing.json())["error"] == "not_found"
    wrong = await kit.client.get(f"/v1/agencies/{LEAD}/events")
    assert wrong.status == 405 and (await wrong.json())["error"] == "method_not_allowed"


# --- under load, and what never leaks --------------------------------------------------------------


async def test_concurrent_deliveries_of_the_same_events_apply_each_exactly_once(kit, case_id):
    events = [envelope(case_id, "consent.recorded", CONSENT) for _ in range(8)]
    responses = await asyncio.gather(*(kit.post(LEAD, e) for e in events for _ in range(3)))
    by_event: dict[str, list[int]] = {}
    for response in responses:
        body = await response.json()
        by_event.setdefault(body["event_id"], []).append(response.status)
    assert {eid: sorted(statuses) for eid, statuses in by_event.items()} == {
        e["event_id"]: [200, 200, 202] for e in events}


async def test_events_queued_behind_a_case_that_does_not_answer_get_503_within_the_apply_timeout(
        dev_env, tmp_path_factory):
    # A case no worker serves (its queue is never polled): each update waits. With one event at a time per
    # case, the third event in line must still hear 503 + Retry-After within the apply timeout, not after
    # waiting out the two ahead of it (an agency's client gives up first and sends again into the queue).
    settings = TEST_SETTINGS.model_copy(update={"apply_timeout_seconds": 2.0, "case_concurrency": 1})
    async with gateway_for(dev_env, tmp_path_factory.mktemp("gateway-stalled"), settings) as stalled:
        unserved = Cases(stalled.harness.cases.client, f"unpolled-{uuid.uuid4().hex[:8]}",
                         stalled.harness.cases.policy)
        case_id = (await unserved.open(intake())).case_id

        async def post_timed(event):
            began = time.monotonic()
            response = await stalled.post(LEAD, event)
            return response, time.monotonic() - began

        answers = await asyncio.gather(*(post_timed(envelope(case_id, "consent.recorded", CONSENT))
                                         for _ in range(3)))
        for response, seconds in answers:
            body = await assert_refused(stalled, case_id, response, 503, "case_unavailable")
            assert "within 2 s" in body["message"] and response.headers["Retry-After"] == "5"
            assert seconds < 3.5, seconds  # each waited one timeout (2 s), not its place in line (4 s, 6 s)
        await unserved.handle(case_id).terminate("test over")


async def test_secrets_never_reach_logs_or_error_bodies(kit, case_id):
    secret = kit.secrets[LEAD]
    bodies = []
    with capture_logs() as logs:
        for kwargs in ({"secret_of": POLICE}, {"at": minutes_ago(10)}, {"msg_id": "other"}, {}):
            response = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT), **kwargs)
            bodies.append(await response.text())
        await kit.post(OTHER_PROVINCE, envelope(case_id, "consent.recorded", CONSENT))
    text = json.dumps(logs, default=str) + "".join(bodies)
    for office_secret in kit.secrets.values():
        assert office_secret not in text and office_secret.removeprefix("whsec_") not in text
    assert secret not in text
    assert any(line["event"] == "gateway_event" and line["status"] == 401 for line in logs)


async def test_one_event_id_sent_to_two_cases_is_applied_to_each(kit, case_id):
    # One id for two different cases: each case dedupes its own events, so both apply.
    other = await kit.open_case()
    event_id = f"gw-{uuid.uuid4().hex[:12]}"
    first = await kit.post(LEAD, envelope(case_id, "consent.recorded", CONSENT, event_id=event_id))
    second = await kit.post(LEAD, envelope(other, "consent.recorded", CONSENT, event_id=event_id))
    assert (first.status, second.status) == (202, 202)
