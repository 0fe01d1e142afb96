"""The intake file (SPEC "Intake file"): validation, and what is derived from it."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from sinergi.domain.intake import Intake, age_at, field_value, shareable_fields
from sinergi.testing.cases import intake

# The SPEC sample, with its "..." placeholders filled in.
SPEC_SAMPLE: dict[str, Any] = {
    "province": "KALSEL",
    "received_at": "2026-11-27T08:00:00+08:00",
    "source": {"agency": "bp3mi", "channel": "debarkation"},
    "person": {"full_name": "Siti Contoh", "sex": "F", "date_of_birth": "2001-03-14", "nationality": "ID",
               "phone": "+62 812 5550 1234", "home_regency": "Kabupaten Banjar"},
    "situation": {"location_country": "MY", "exploitation": ["forced_labour"], "sector": "domestic_work",
                  "means_of_control": ["withholds_documents", "debt_bondage"], "is_pmi": True, "procedural": False},
    "consent": {"services": True, "data_sharing": True, "recorded_by": "officer-17"},
    "flags": {"sexual_exploitation": False},
}


def sample(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(SPEC_SAMPLE)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key].update(value)
        else:
            raw[key] = value
    return raw


def errors_of(raw: dict[str, Any]) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as info:
        Intake.model_validate(raw)
    return info.value.errors()


def test_the_spec_sample_intake_validates() -> None:
    parsed = Intake.model_validate(SPEC_SAMPLE)
    assert parsed.province == "KALSEL"
    assert parsed.person.home_regency == "Kabupaten Banjar"
    assert parsed.situation.means_of_control == ["withholds_documents", "debt_bondage"]
    assert parsed.consent.legal is False  # missing optional fields are fine
    assert parsed.flags.urgent_medical is False


def test_the_spec_sample_validates_from_json_too() -> None:
    import json

    assert Intake.model_validate_json(json.dumps(SPEC_SAMPLE)) == Intake.model_validate(SPEC_SAMPLE)


def test_an_intake_round_trips_through_json_unchanged() -> None:
    parsed = intake()
    assert Intake.model_validate_json(parsed.model_dump_json()) == parsed


def test_a_minimal_intake_needs_only_province_time_source_person_and_consent() -> None:
    parsed = Intake.model_validate({
        "province": "KALSEL", "received_at": "2026-11-27T08:00:00+08:00",
        "source": {"agency": "uptd_ppa", "channel": "hotline"}, "person": {},
        "consent": {"recorded_by": "officer-1"},
    })
    assert parsed.situation.location_country == "ID"
    assert parsed.consent.services is parsed.consent.data_sharing is parsed.consent.legal is False


@pytest.mark.parametrize(
    ("section", "field"),
    [(None, "nickname"), ("person", "nickname"), ("situation", "employer"), ("source", "officer"),
     ("consent", "witness"), ("flags", "pregnant")],
)
def test_an_unknown_field_is_refused_at_every_level_and_named(section: str | None, field: str) -> None:
    raw = sample()
    (raw if section is None else raw[section])[field] = "x"
    errors = errors_of(raw)
    expected = (field,) if section is None else (section, field)
    assert [(e["loc"], e["type"]) for e in errors] == [(expected, "extra_forbidden")]


def test_is_child_cannot_be_given_in_the_input() -> None:
    errors = errors_of(sample(is_child=False))
    assert errors[0]["loc"] == ("is_child",)


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"province": "kalsel"}, ("province",)),
        ({"person": {"nationality": "Indonesia"}}, ("person", "nationality")),
        ({"person": {"sex": "female"}}, ("person", "sex")),
        ({"person": {"phone": "call me"}}, ("person", "phone")),
        ({"person": {"age_estimate": -1}}, ("person", "age_estimate")),
        ({"source": {"agency": "court"}}, ("source", "agency")),
        ({"source": {"channel": "fax"}}, ("source", "channel")),
        ({"consent": {"recorded_by": ""}}, ("consent", "recorded_by")),
        ({"situation": {"location_country": "Malaysia"}}, ("situation", "location_country")),
    ],
)
def test_a_bad_value_is_refused_naming_its_field(changes: dict[str, Any], loc: tuple[str, ...]) -> None:
    assert [e["loc"] for e in errors_of(sample(**changes))] == [loc]


def test_consent_must_say_who_recorded_it() -> None:
    raw = sample()
    del raw["consent"]["recorded_by"]
    assert [(e["loc"], e["type"]) for e in errors_of(raw)] == [(("consent", "recorded_by"), "missing")]


def test_a_received_at_without_a_time_zone_is_refused() -> None:
    errors = errors_of(sample(received_at="2026-11-27T08:00:00"))
    assert [(e["loc"], e["type"]) for e in errors] == [(("received_at",), "timezone_aware")]


def test_a_date_of_birth_after_received_at_is_refused() -> None:
    errors = errors_of(sample(person={"date_of_birth": "2026-11-28"}))
    assert "person.date_of_birth is after received_at" in errors[0]["msg"]


def test_a_date_of_birth_on_the_day_of_intake_is_accepted() -> None:
    assert intake(person={"date_of_birth": "2026-11-27"}).is_child


@pytest.mark.branch("child")
def test_a_person_one_day_short_of_eighteen_is_a_child() -> None:
    # received 2026-11-27: born 2008-11-28 is 17 years and 364 days old.
    assert intake(person={"date_of_birth": "2008-11-28"}).is_child


@pytest.mark.branch("child")
def test_a_person_on_their_eighteenth_birthday_is_an_adult() -> None:
    assert not intake(person={"date_of_birth": "2008-11-27"}).is_child


@pytest.mark.branch("child")
@pytest.mark.parametrize(("estimate", "child"), [(0, True), (17, True), (18, False), (35, False)])
def test_is_child_comes_from_the_age_estimate_without_a_date_of_birth(estimate: int, child: bool) -> None:
    assert intake(person={"date_of_birth": None, "age_estimate": estimate}).is_child is child


@pytest.mark.branch("child")
def test_a_person_of_unknown_age_is_treated_as_a_child() -> None:
    assert intake(person={"date_of_birth": None, "age_estimate": None}).is_child


def test_the_date_of_birth_wins_over_an_age_estimate() -> None:
    assert not intake(person={"date_of_birth": "2001-03-14", "age_estimate": 15}).is_child


def test_age_counts_whole_years_at_the_intake_day() -> None:
    parsed = intake(person={"date_of_birth": "2001-03-14"})
    assert age_at(parsed.person, parsed.received_at) == 25
    assert age_at(intake(person={"date_of_birth": None}).person, parsed.received_at) is None


@pytest.mark.branch("abroad")
def test_a_person_outside_indonesia_is_abroad() -> None:
    assert intake(situation={"location_country": "MY"}).abroad


@pytest.mark.branch("domestic")
def test_a_person_in_indonesia_is_not_abroad_and_indonesia_is_the_default() -> None:
    assert not intake(situation={"location_country": "ID"}).abroad
    raw = sample()
    del raw["situation"]
    assert not Intake.model_validate(raw).abroad


@pytest.mark.branch("foreign_national")
@pytest.mark.parametrize(("nationality", "foreign"), [("VN", True), ("MY", True), ("ID", False), (None, False)])
def test_a_foreign_national_is_anyone_with_a_known_non_indonesian_nationality(
        nationality: str | None, foreign: bool) -> None:
    assert intake(person={"nationality": nationality}).foreign_national is foreign


def test_field_value_reads_a_dotted_intake_field() -> None:
    parsed = intake()
    assert field_value(parsed, "person.home_regency") == "63.03"
    assert field_value(parsed, "situation.is_pmi") is True
    assert field_value(parsed, "is_child") is False


def test_every_shareable_field_can_be_read_from_an_intake() -> None:
    parsed = intake()
    fields = shareable_fields()
    assert {"person.full_name", "situation.exploitation", "flags.sexual_exploitation", "source.agency",
            "province", "regency", "received_at", "is_child"} <= set(fields)
    for dotted in fields:
        field_value(parsed, dotted)  # raises AttributeError on a field that does not exist
    assert not any(f.startswith("consent.") for f in fields), "consent records are never shared"
