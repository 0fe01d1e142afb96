"""The event vocabulary (SPEC "Events"): every type parses, and every bad envelope is named precisely."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from sinergi.domain.events import EVENT_TYPES, INTERNAL_EVENT_TYPES, EventEnvelope, parse_event

# Valid data for every event type; the test below fails when a type is added without an example.
VALID_DATA: dict[str, dict[str, Any]] = {
    "case.opened": {},
    "identification.screening_completed": {"outcome": "presumed_victim", "indicators": ["deception"]},
    "identification.police_report_filed": {"report_number": "LP/B/123/XI/2026"},
    "protection.shelter_admitted": {"facility": "RPTC Banjarbaru"},
    "protection.shelter_discharged": {},
    "protection.police_protection_granted": {},
    "protection.lpsk_application_filed": {},
    "protection.lpsk_decision": {"decision": "accepted"},
    "protection.safe_placement_confirmed": {},
    "rehabilitation.request_filed": {"services": ["health", "social"], "filed_by": "companion"},
    "rehabilitation.first_aid_requested": {},
    "rehabilitation.first_aid_provided": {},
    "rehabilitation.service_started": {"service": "health"},
    "rehabilitation.service_completed": {"service": "social"},
    "rehabilitation.completed": {"return_to": "63.03", "needs_repatriation": True},  # kept by code, as the next
    "repatriation.risk_assessed": {"safe": True},
    "repatriation.best_interest_determined": {"caregiver_confirmed": True, "return_in_best_interest": True},
    "repatriation.travel_document_issued": {},
    "repatriation.departed": {"port": "Kuala Lumpur"},
    "repatriation.arrived_port_of_entry": {"port": "Pelabuhan Trisakti"},
    "repatriation.arrived_home": {"regency": "63.03"},  # Kabupaten Banjar: places are kept by code
    "repatriation.handed_over": {"mission": "Embassy of Viet Nam"},
    "reintegration.plan_agreed": {},
    "reintegration.followup_completed": {"wellbeing": "stable"},
    "reintegration.rights_settled": {},
    "reintegration.completed": {},
    "referral.acknowledged": {"referral_id": "KALSEL-2026-7Q2M9XKD-R001"},
    "referral.accepted": {"referral_id": "KALSEL-2026-7Q2M9XKD-R001", "reason": "bed available"},
    "referral.declined": {"referral_id": "KALSEL-2026-7Q2M9XKD-R001", "reason": "no bed"},
    "referral.completed": {"referral_id": "KALSEL-2026-7Q2M9XKD-R001"},
    "consent.recorded": {"scope": "services"},
    "consent.withdrawn": {"scope": "data_sharing", "agency": "ngo_kalsel"},
    "case.contact_lost": {},
    "case.contact_restored": {},
    "case.victim_deceased": {},
    "case.transferred": {"province": "JATIM", "regency": "35.78"},  # Kota Surabaya
    "case.data_breach_discovered": {},
    "case.data_breach_notified": {},
    "case.closed": {"reason": "duplicate of KALSEL-2026-AAAAAAAA"},
    "legal.investigation_opened": {},
    "legal.judgment_final": {},
    "legal.restitution_paid": {},
    "legal.proceedings_ended": {},
}

# One required data field per type that has any, and a value its type refuses.
REQUIRED: dict[str, tuple[str, Any]] = {
    "identification.screening_completed": ("outcome", "probably"),
    "identification.police_report_filed": ("report_number", ""),
    "protection.shelter_admitted": ("facility", ""),
    "protection.lpsk_decision": ("decision", "maybe"),
    "rehabilitation.request_filed": ("services", ["dentistry"]),
    "rehabilitation.service_started": ("service", "dentistry"),
    "rehabilitation.service_completed": ("service", "dentistry"),
    "rehabilitation.completed": ("needs_repatriation", "perhaps"),
    "repatriation.risk_assessed": ("safe", "perhaps"),
    "repatriation.best_interest_determined": ("caregiver_confirmed", "perhaps"),
    "repatriation.arrived_home": ("regency", ""),
    "repatriation.handed_over": ("mission", ""),
    "reintegration.followup_completed": ("wellbeing", "fine"),
    "referral.acknowledged": ("referral_id", ""),
    "referral.accepted": ("referral_id", ""),
    "referral.declined": ("referral_id", ""),
    "referral.completed": ("referral_id", ""),
    "consent.recorded": ("scope", "everything"),
    "consent.withdrawn": ("scope", "everything"),
    "case.transferred": ("province", "east java"),
    "case.closed": ("reason", ""),
}


def envelope(type_: str, data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    raw = {"event_id": "evt-0001", "case_id": "KALSEL-2026-7Q2M9XKD", "type": type_,
           "occurred_at": "2026-11-27T09:00:00+08:00", **extra}
    if data is not None:
        raw["data"] = data
    return raw


def errors_of(raw: dict[str, Any] | str) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        parse_event(raw)
    return info.value.errors()


def test_every_event_type_has_a_valid_example_here() -> None:
    assert set(VALID_DATA) == set(EVENT_TYPES)


def test_every_event_type_with_required_data_has_a_refusal_example_here() -> None:
    required = {t for t, (_, model, _) in EVENT_TYPES.items()
                if any(f.is_required() for f in model.model_fields.values())}
    assert set(REQUIRED) == required


@pytest.mark.parametrize("type_", sorted(EVENT_TYPES))
def test_every_event_type_parses_with_valid_data(type_: str) -> None:
    parsed = parse_event(envelope(type_, VALID_DATA[type_]))
    assert parsed.type == type_
    assert parsed.data.model_dump(exclude_defaults=True) == VALID_DATA[type_]
    assert type(parsed).__name__ == EVENT_TYPES[type_][0]


@pytest.mark.parametrize("type_", sorted(EVENT_TYPES))
def test_every_event_type_parses_from_json_and_round_trips(type_: str) -> None:
    parsed = parse_event(json.dumps(envelope(type_, VALID_DATA[type_])))
    assert parse_event(parsed.model_dump_json()) == parsed
    assert EventEnvelope.model_validate_json(EventEnvelope(event=parsed).model_dump_json()).event == parsed


@pytest.mark.parametrize("type_", sorted(t for t, (_, model, _) in EVENT_TYPES.items() if not model.model_fields))
def test_an_event_without_data_fields_may_leave_data_out(type_: str) -> None:
    assert parse_event(envelope(type_)).data.model_dump() == {}


def test_an_unknown_event_type_is_refused_naming_the_allowed_tags() -> None:
    [error] = errors_of(envelope("protection.shelter_found", {}))
    assert error["type"] == "union_tag_invalid"
    assert "'protection.shelter_found'" in error["msg"]
    for type_ in EVENT_TYPES:
        assert f"'{type_}'" in error["msg"]


def test_an_envelope_without_a_type_is_refused() -> None:
    raw = envelope("case.contact_lost", {})
    del raw["type"]
    assert errors_of(raw)[0]["type"] == "union_tag_not_found"


@pytest.mark.parametrize("type_", sorted(REQUIRED))
def test_a_missing_data_field_is_named_in_the_error_location(type_: str) -> None:
    field, _ = REQUIRED[type_]
    data = {k: v for k, v in VALID_DATA[type_].items() if k != field}
    assert [(e["loc"], e["type"]) for e in errors_of(envelope(type_, data))] == [((type_, "data", field), "missing")]


@pytest.mark.parametrize("type_", sorted(REQUIRED))
def test_an_invalid_data_field_is_named_in_the_error_location(type_: str) -> None:
    field, bad = REQUIRED[type_]
    errors = errors_of(envelope(type_, {**VALID_DATA[type_], field: bad}))
    assert errors and all(e["loc"][:3] == (type_, "data", field) for e in errors)


def test_an_event_id_must_be_a_plain_token() -> None:
    errors = errors_of(envelope("case.contact_lost", {}, event_id="evt 1/../"))
    assert [e["loc"] for e in errors] == [("case.contact_lost", "event_id")]


@pytest.mark.parametrize("type_", ["case.contact_lost", "protection.lpsk_decision", "case.transferred"])
def test_an_extra_data_field_is_refused(type_: str) -> None:
    errors = errors_of(envelope(type_, {**VALID_DATA[type_], "victim_name": "x"}))
    assert [(e["loc"], e["type"]) for e in errors] == [((type_, "data", "victim_name"), "extra_forbidden")]


def test_an_extra_envelope_field_is_refused() -> None:
    errors = errors_of(envelope("case.contact_lost", {}, priority="high"))
    assert [(e["loc"], e["type"]) for e in errors] == [(("case.contact_lost", "priority"), "extra_forbidden")]


def test_an_occurred_at_without_a_time_zone_is_refused() -> None:
    errors = errors_of(envelope("case.contact_lost", {}, occurred_at="2026-11-27T09:00:00"))
    assert [(e["loc"], e["type"]) for e in errors] == [(("case.contact_lost", "occurred_at"), "timezone_aware")]


def test_malformed_json_is_refused_as_a_validation_error() -> None:
    assert errors_of('{"type": ')[0]["type"] == "json_invalid"


def test_the_opening_event_is_internal() -> None:
    assert {"case.opened"} == INTERNAL_EVENT_TYPES


def test_event_types_are_grouped_by_lifecycle_stage_or_topic() -> None:
    prefixes = {t.split(".")[0] for t in EVENT_TYPES}
    assert prefixes == {"case", "identification", "protection", "rehabilitation", "repatriation",
                        "reintegration", "referral", "consent", "legal"}


def test_ids_and_free_text_follow_the_spec_limits_where_they_enter_and_older_ids_still_load() -> None:
    """SPEC "Limits": ids 100, free text 2,000. An id of up to 128 characters was once taken: a history holding
    one loads as written."""
    from pydantic import ValidationError

    from sinergi.domain.events import EVENT_ADAPTER
    from sinergi.domain.limits import ID_MAX, TEXT_MAX

    closed = envelope("case.closed", {"reason": "x" * TEXT_MAX})
    assert parse_event({**closed, "event_id": "e" * ID_MAX}).data.reason == "x" * TEXT_MAX
    with pytest.raises(ValidationError, match="at most 100 characters"):
        parse_event({**closed, "event_id": "e" * (ID_MAX + 1)})
    with pytest.raises(ValidationError, match="at most 2000 characters"):
        parse_event(envelope("case.closed", {"reason": "x" * (TEXT_MAX + 1)}))
    declined = envelope("referral.declined", {"referral_id": "R" * (ID_MAX + 1), "reason": "y" * TEXT_MAX})
    with pytest.raises(ValidationError, match="at most 100 characters"):
        parse_event(declined)
    assert EVENT_ADAPTER.validate_python({**closed, "event_id": "e" * 128}).event_id == "e" * 128
    assert EVENT_ADAPTER.validate_python(declined).data.referral_id == "R" * (ID_MAX + 1)
