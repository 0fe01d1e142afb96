"""Data minimisation and the consent gate (DOMAIN §6): what each office may be given, and when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sinergi.agencies import load_registry
from sinergi.domain.case import Consent, Referral
from sinergi.domain.intake import shareable_fields
from sinergi.domain.sharing import LEGAL_SERVICES, may_share, payload_for
from sinergi.testing.cases import SAMPLE_NAME, SAMPLE_PHONE, intake

REGISTRY = load_registry("sandbox")

# An intake with every shareable field filled in, so nothing is left out by being empty.
FULL = intake(
    regency="Kabupaten Banjar",
    person={"full_name": SAMPLE_NAME, "sex": "F", "date_of_birth": "2001-03-14", "age_estimate": 25,
            "nationality": "ID", "phone": SAMPLE_PHONE, "email": "siti@example.org", "address": "Jl. Contoh 1",
            "home_regency": "Kabupaten Banjar", "identity_document": "6303010101010001"},
    situation={"location_country": "MY", "location_province": "Johor", "exploitation": ["forced_labour"],
               "sector": "domestic_work", "means_of_control": ["debt_bondage"], "is_pmi": True,
               "procedural": False, "placement_company": "PT Contoh", "destination_country": "MY",
               "recruiter_relation": "friend"},
    flags={"sexual_exploitation": True, "urgent_medical": True},
)


def flatten(data: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in data.items():
        if isinstance(value, dict):
            out += flatten(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}")
    return out


# An office whose agreement would allow everything (none does: this only exercises payload_for).
EVERYTHING = REGISTRY.offices["bp3mi_kalsel"].model_copy(update={"receives": ["*"]})


def test_every_shareable_field_is_filled_in_the_full_intake() -> None:
    assert payload_for(FULL, EVERYTHING)[1] == shareable_fields()


@pytest.mark.parametrize("office_id", sorted(REGISTRY.offices))
def test_an_office_receives_only_the_fields_its_agreement_allows(office_id: str) -> None:
    office = REGISTRY.offices[office_id]
    data, sent = payload_for(FULL, office)
    allowed = set(office.allowed_fields())
    assert set(flatten(data)) == set(sent)
    assert set(sent) <= allowed, f"{office_id} was given {sorted(set(sent) - allowed)}"
    assert set(sent) == allowed, "every allowed and filled-in field is sent"


@pytest.mark.parametrize("office_id", sorted(o for o in REGISTRY.offices if o.startswith("gugus_tugas")))
def test_the_task_force_never_receives_the_persons_identity(office_id: str) -> None:
    data, sent = payload_for(FULL, REGISTRY.offices[office_id])
    assert "person" not in data and not any(f.startswith("person.") for f in sent)
    assert SAMPLE_NAME not in repr(data) and SAMPLE_PHONE not in repr(data)


def test_the_payload_is_nested_by_section_with_dates_as_iso_text() -> None:
    data, _ = payload_for(FULL, EVERYTHING)
    assert data["person"]["full_name"] == SAMPLE_NAME
    assert data["person"]["date_of_birth"] == "2001-03-14"
    assert data["received_at"] == "2026-11-27T08:00:00+08:00"
    assert data["is_child"] is False
    assert data["province"] == "KALSEL"


def test_empty_fields_are_left_out_of_the_payload() -> None:
    sparse = intake(person={"full_name": None, "phone": None}, situation={"exploitation": []})
    data, sent = payload_for(sparse, REGISTRY.offices["ngo_kalsel"])
    assert data == {"person": {"sex": "F"}}
    assert sent == ["person.sex"]


def test_false_is_a_value_and_is_sent() -> None:
    _, sent = payload_for(intake(flags={"urgent_medical": False}), REGISTRY.offices["dinkes_kalsel"])
    assert "flags.urgent_medical" in sent


# --- the consent gate ------------------------------------------------------------------------------


def referral(service: str, mandated_by: str | None = None, kind: str = "dinsos", office: str | None = None):
    return Referral(referral_id="R1", service=service, kind=kind, office=office, mandated_by=mandated_by,
                    created_at=datetime(2026, 11, 27, tzinfo=UTC), stage="protection")


@pytest.mark.parametrize(
    ("services", "data_sharing", "legal", "shared"),
    [(True, True, False, True), (True, False, True, False), (False, True, True, False), (False, False, True, False)],
)
def test_a_service_referral_needs_services_and_data_sharing_consent(
        services: bool, data_sharing: bool, legal: bool, shared: bool) -> None:
    consent = Consent(services=services, data_sharing=data_sharing, legal=legal)
    assert may_share(consent, referral("shelter")) is shared


@pytest.mark.branch("legal_track")
@pytest.mark.parametrize("service", LEGAL_SERVICES)
@pytest.mark.parametrize(
    ("services", "data_sharing", "legal", "shared"),
    [(False, True, True, True), (True, True, False, False), (True, False, True, False)],
)
def test_a_legal_referral_needs_legal_and_data_sharing_consent(
        service: str, services: bool, data_sharing: bool, legal: bool, shared: bool) -> None:
    consent = Consent(services=services, data_sharing=data_sharing, legal=legal)
    assert may_share(consent, referral(service, kind="polri")) is shared


@pytest.mark.branch("consent_withdrawn")
@pytest.mark.parametrize("service", ["police_report", "shelter"])
def test_a_referral_mandated_by_law_passes_without_any_consent(service: str) -> None:
    assert may_share(Consent(), referral(service, mandated_by="UU 12/2022 Art. 41"))


@pytest.mark.branch("consent_withdrawn")
def test_an_agency_the_victim_withdrew_consent_for_gets_nothing_by_kind_or_by_office() -> None:
    consent = Consent(services=True, data_sharing=True, legal=True, withheld_from=["dinsos", "ngo_kalsel"])
    assert not may_share(consent, referral("shelter", kind="dinsos"))
    assert not may_share(consent, referral("legal_aid", kind="ngo", office="ngo_kalsel"))
    assert may_share(consent, referral("shelter", kind="uptd_ppa"))
    assert may_share(consent, referral("police_report", kind="dinsos", mandated_by="UU 12/2022 Art. 41"))
