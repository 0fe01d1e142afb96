"""The hostile review's reproductions (issue 19, findings 1-3), each against the real gateway on loopback
and a real Temporal dev server: what one office could do to a victim's case, and now cannot.

1. Freeze a case: `consent.withdrawn` with a 60 KB `data.agency`, 68 times, from an office with no part
   in the case — every value kept in the case until its continue-as-new input passed the payload limit.
2. "Party" meant "covers the province": POLDA closed a case as "not a victim", UPTD PPA withdrew consent,
   the NGO marked contact lost, none of them referred anything.
3. Swallow another office's event: the NGO sent an event under the id the sandbox uses for BP3MI's
   acknowledgement; BP3MI's real one was then "a duplicate" and dropped, and R001 breached.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sinergi.domain import limits
from sinergi.platform.config import GatewaySettings
from sinergi.testing.cases import event
from sinergi.testing.waiting import eventually

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from gateway_kit import LEAD, POLICE, PROVINCE_OFFICE, envelope, gateway_for  # noqa: E402

NGO = "ngo_kalsel"  # may send consent.*, screening outcomes and contact events by its agreement
# As deployed: the default body limit (64 KiB), so a 60 KB field reaches validation.
SETTINGS = GatewaySettings(read_timeout_seconds=2, apply_timeout_seconds=10)


@pytest.fixture(scope="module")
async def kit(dev_env, tmp_path_factory):
    async with gateway_for(dev_env, tmp_path_factory.mktemp("hostile"), SETTINGS) as kit:
        yield kit


async def opened(kit, **overrides) -> str:
    case_id = await kit.harness.open(**overrides)
    await kit.settle(case_id)

    async def lead_known() -> None:
        assert (await kit.harness.cases.why(case_id)).lead_office == LEAD
    await eventually(lead_known)
    return case_id


async def status(kit, case_id):
    return await kit.harness.cases.status(case_id)


async def test_an_outsider_cannot_grow_a_case_with_huge_or_repeated_consent_withdrawals(kit):
    case_id = await opened(kit)
    before = await kit.history_length(case_id)
    answers = []
    for n in range(68):
        huge = envelope(case_id, "consent.withdrawn", {"scope": "services", "agency": "x" * 60_000})
        answers.append((await kit.post(NGO, huge)).status)
        small = envelope(case_id, "consent.withdrawn", {"scope": "services", "agency": f"office_{n}"})
        answers.append((await kit.post(NGO, small)).status)
    # The huge ones are refused as invalid before anything else (the field's length); the small ones
    # because the NGO takes no part in the case.
    assert set(answers[0::2]) == {400} and set(answers[1::2]) == {403}
    assert await kit.history_length(case_id) == before
    assert (await status(kit, case_id)).consent.data_sharing  # nothing withdrawn


async def test_even_the_lead_office_cannot_keep_more_than_fifty_withheld_offices(kit):
    case_id = await opened(kit)
    for n in range(limits.ITEMS_MAX):
        sent = await kit.post(LEAD, envelope(case_id, "consent.withdrawn",
                                             {"scope": "data_sharing", "agency": f"o{n:02d}" + "x" * 97}))
        assert sent.status == 202
    refused = await kit.post(LEAD, envelope(case_id, "consent.withdrawn", {"scope": "data_sharing",
                                                                            "agency": "one_more"}))
    body = await refused.json()
    assert refused.status == 409 and "withdraw it for all" in body["message"]


@pytest.mark.parametrize(("office", "type_", "data"), [
    (POLICE, "identification.screening_completed", {"outcome": "not_victim"}),
    (PROVINCE_OFFICE, "consent.withdrawn", {"scope": "services"}),
    (NGO, "case.contact_lost", {}),
    (NGO, "identification.screening_completed", {"outcome": "not_victim"}),
])
async def test_covering_the_province_gives_an_office_no_say_in_a_case(kit, office, type_, data):
    case_id = await opened(kit)
    before = await kit.history_length(case_id)
    response = await kit.post(office, envelope(case_id, type_, data))
    body = await response.json()
    assert (response.status, body["error"]) == (403, "not_a_party"), body
    assert await kit.history_length(case_id) == before
    st = await status(kit, case_id)
    assert not st.closed and st.consent.services


@pytest.mark.rule("T11")
async def test_a_referred_office_that_does_not_lead_cannot_close_the_case(kit):
    # A sexual-exploitation case is reported to the police at once (UU 12/2022 Art. 41): POLDA takes part,
    # and its agreement lets it send screening outcomes, yet the outcome is for the lead to give.
    case_id = await opened(kit, flags={"sexual_exploitation": True})
    assert any(r.agency == POLICE for r in (await status(kit, case_id)).referrals)
    response = await kit.post(POLICE, envelope(case_id, "identification.screening_completed",
                                               {"outcome": "not_victim"}))
    body = await response.json()
    assert (response.status, body["error"]) == (403, "not_allowed"), body
    assert f"lead office ({LEAD})" in body["message"]
    assert not (await status(kit, case_id)).closed


async def test_an_office_cannot_swallow_another_offices_event_by_reusing_its_id(kit):
    case_id = await opened(kit)
    referral = next(r for r in (await status(kit, case_id)).referrals if r.agency == LEAD)
    sandbox_id = f"sbx.{case_id}-{referral.referral_id.rsplit('-', 1)[1]}.00"
    # The NGO (outside the case) tries to take the id first: refused, and the id stays free.
    squatted = await kit.post(NGO, envelope(case_id, "consent.recorded", {"scope": "services"}, event_id=sandbox_id))
    assert squatted.status == 403
    # An office of the case, under that id, applies its own event...
    applied = await kit.post(LEAD, envelope(case_id, "consent.recorded", {"scope": "services"}, event_id=sandbox_id))
    assert applied.status == 202
    # ...and the same id from the same office with other content is a conflict, not a silent duplicate.
    ack = envelope(case_id, "referral.acknowledged", {"referral_id": referral.referral_id}, event_id=sandbox_id)
    reused = await kit.post(LEAD, ack)
    assert (reused.status, (await reused.json())["error"]) == (409, "event_id_reused")
    # The office's real acknowledgement under a fresh id lands, and an exact resend is a duplicate.
    ack["event_id"] = sandbox_id + ".real"
    assert (await kit.post(LEAD, ack)).status == 202
    assert json.loads(await (await kit.post(LEAD, ack)).text())["duplicate"] is True
    assert next(r for r in (await status(kit, case_id)).referrals
                if r.referral_id == referral.referral_id).status == "acknowledged"


async def test_two_offices_may_use_the_same_event_id_each_for_its_own_event(kit):
    case_id = await opened(kit)
    shared_id = "evt-0001"
    first = await kit.post(LEAD, envelope(case_id, "consent.recorded", {"scope": "services"}, event_id=shared_id))
    assert first.status == 202
    # An operator's event under the same id is the operator's own: applied, not a duplicate of the office's.
    outcome = await kit.harness.cases.send(event(case_id, "case.contact_lost", event_id=shared_id))
    assert outcome.duplicate is False
    timeline = await kit.harness.cases.timeline(case_id)
    assert [e.ref for e in timeline.entries].count(shared_id) == 2


@pytest.mark.parametrize(("occurred_at", "why"), [
    (12345, "RFC 3339"), ("0001-01-01T00:00:00Z", "1990"), ("2999-01-01T00:00:00Z", "future"),
])
async def test_an_event_dated_outside_a_sane_window_is_400_naming_occurred_at(kit, occurred_at, why):
    case_id = await opened(kit)
    response = await kit.post(LEAD, {**envelope(case_id, "consent.recorded", {"scope": "services"}),
                                     "occurred_at": occurred_at})
    body = await response.json()
    assert (response.status, body["error"]) == (400, "invalid_event"), body
    (problem,) = body["details"]
    assert problem["field"] == "occurred_at" and why in problem["message"]
