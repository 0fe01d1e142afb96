"""Places where input enters (SPEC "Places"): an intake, a transfer or an arrival home names its places by name or
code and is kept by code; a place that does not exist is refused with the nearest names; an agreement's places are
checked and kept by code; routing compares codes; and what older histories hold (names, typos) still loads and
still routes."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from sinergi.agencies import RegistryError, load_registry
from sinergi.domain import places
from sinergi.domain.agencies import Office
from sinergi.domain.events import EVENT_ADAPTER, Sender, parse_event
from sinergi.domain.intake import Intake
from sinergi.domain.limits import STRICT, refusal

REGISTRY = load_registry("sandbox")

INTAKE: dict[str, Any] = {
    "province": "KALSEL", "regency": "Kabupaten Banjar", "received_at": "2026-11-27T08:00:00+08:00",
    "source": {"agency": "bp3mi", "channel": "debarkation"},
    "person": {"full_name": "Siti Contoh", "home_regency": "Kabupaten Banjar"},
    "consent": {"recorded_by": "officer-17"},
}


def raw_intake(**changes: Any) -> dict[str, Any]:
    raw = copy.deepcopy(INTAKE)
    for key, value in changes.items():
        if isinstance(value, dict):
            raw[key].update(value)
        else:
            raw[key] = value
    return raw


def entered(**changes: Any) -> Intake:
    """An intake as the CLI, a bulk file and the demo read it."""
    return Intake.model_validate(raw_intake(**changes), context=STRICT)


def refused(**changes: Any) -> dict[tuple, str]:
    with pytest.raises(ValidationError) as info:
        entered(**changes)
    return {tuple(e["loc"]): e["msg"] for e in info.value.errors()}


def envelope(type_: str, **data: Any) -> dict[str, Any]:
    return {"event_id": "evt-0001", "case_id": "KALSEL-2026-7Q2M9XKD", "type": type_,
            "occurred_at": "2026-11-27T09:00:00+08:00", "data": data}


def event_refused(type_: str, **data: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        parse_event(envelope(type_, **data))
    return {".".join(str(p) for p in e["loc"][1:]): e["msg"] for e in info.value.errors()}


# --- the intake ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["KALSEL", "Kalsel", "63", "Kalimantan Selatan", "KALIMANTAN SELATAN",
                                     "Provinsi Kalimantan Selatan", "kal-sel"])
def test_an_intake_province_by_short_code_kemendagri_code_or_name_is_kept_as_the_short_code(written: str) -> None:
    assert entered(province=written, regency=None).province == "KALSEL"


@pytest.mark.parametrize("written", ["Kabupaten Banjar", "kab. banjar", "Kab Banjar", "KABUPATEN BANJAR", "Banjar",
                                     "banjar", "63.03", "6303", "63 03"])
def test_an_intake_regency_by_name_or_code_is_kept_as_its_kemendagri_code(written: str) -> None:
    assert entered(regency=written).regency == "63.03"


def test_a_regency_is_looked_for_in_the_intakes_province_however_that_is_written() -> None:
    # `Banjar` alone is also Kota Banjar (32.79) in Jawa Barat: the province tells them apart.
    assert entered(province="63", regency="Banjar").regency == "63.03"
    assert entered(province="Jawa Barat", regency="Banjar", person={"home_regency": None}).regency == "32.79"
    assert entered(regency="banjarmasin").regency == "63.71"


def test_a_home_regency_is_kept_by_code_found_in_the_intakes_province_first_then_anywhere() -> None:
    assert entered(person={"home_regency": "Banjar"}).person.home_regency == "63.03"
    assert entered(person={"home_regency": "kab. banjar"}).person.home_regency == "63.03"
    assert entered(person={"home_regency": "Kota Surabaya"}).person.home_regency == "35.78"  # home elsewhere
    assert entered(person={"home_regency": "35.78"}).person.home_regency == "35.78"
    assert entered(person={"home_regency": None}).person.home_regency is None


def test_the_kept_form_is_kept_when_read_again() -> None:
    first = entered(province="Kalimantan Selatan", regency="kab. banjar", person={"home_regency": "Surabaya"})
    assert (first.province, first.regency, first.person.home_regency) == ("KALSEL", "63.03", "35.78")
    assert Intake.model_validate(first.model_dump(), context=STRICT) == first
    assert Intake.model_validate_json(first.model_dump_json()) == first


@pytest.mark.parametrize(("written", "nearest"), [
    ("XXX", "no province 'XXX'; nearest: "),
    ("Kalimantan Selatn", "Kalimantan Selatan (63, KALSEL)"),
    ("KALSELL", "Kalimantan Selatan (63, KALSEL)"),
    ("64.03", "no province '64.03'"),
])
def test_an_unknown_province_is_refused_naming_the_nearest(written: str, nearest: str) -> None:
    errors = refused(province=written, regency=None)
    assert list(errors) == [("province",)]
    assert nearest in errors["province",]


def test_a_regency_is_not_looked_for_in_a_province_that_was_refused() -> None:
    assert list(refused(province="XXX", regency="Banjar")) == [("province",)]


def test_an_unknown_regency_is_refused_naming_the_nearest_of_the_province() -> None:
    errors = refused(regency="Banjr")
    assert errors == {("regency",): "Value error, no regency 'Banjr' in Kalimantan Selatan; nearest: "
                                    "Kabupaten Banjar, Kota Banjarbaru, Kota Banjarmasin"}


def test_a_regency_of_another_province_is_refused_saying_where_it_is() -> None:
    assert "elsewhere: Kota Surabaya (35.78, Jawa Timur)" in refused(regency="Kota Surabaya")["regency",]
    assert "is Kota Surabaya (35.78) in Jawa Timur, not in Kalimantan Selatan" in refused(regency="35.78")["regency",]


def test_an_unknown_or_ambiguous_home_regency_is_refused_naming_the_candidates() -> None:
    assert "Kabupaten Banjar (Kalimantan Selatan)" in refused(person={"home_regency": "Banjr"})["person",
                                                                                                 "home_regency"]
    # Outside KALSEL, `Banjar` is two regencies; an intake has no second province to say which.
    ambiguous = refused(province="JATIM", regency=None, person={"home_regency": "Banjar"})["person", "home_regency"]
    assert "Kota Banjar (32.79, Jawa Barat)" in ambiguous
    assert "Kabupaten Banjar (63.03, Kalimantan Selatan)" in ambiguous
    assert "write its full name or its code" in ambiguous


def test_every_bad_place_is_named_at_once() -> None:
    errors = refused(regency="Banjr", person={"home_regency": "Nowhere At All"})
    assert set(errors) == {("regency",), ("person", "home_regency")}


# --- an intake read back from a history ----------------------------------------------------------------------------

@pytest.mark.parametrize(("regency", "home"), [
    ("Kabupaten Banjar", "Kabupaten Banjar"),  # as every case opened before places were codes holds it
    ("kab banjr", "somewhere near the river"),  # a typo, and free text: accepted then, kept for good
    ("Banjar", None),
])
def test_an_intake_stored_before_places_were_codes_loads_unchanged(regency: str, home: str | None) -> None:
    stored = raw_intake(regency=regency, person={"home_regency": home})
    loaded = Intake.model_validate(stored)
    assert (loaded.province, loaded.regency, loaded.person.home_regency) == ("KALSEL", regency, home)
    assert Intake.model_validate_json(loaded.model_dump_json()) == loaded


# --- events ---------------------------------------------------------------------------------------------------------

def test_a_transfer_names_its_places_by_name_or_code_and_keeps_their_codes() -> None:
    moved = parse_event(envelope("case.transferred", province="Jawa Timur", regency="kota surabaya")).data
    assert (moved.province, moved.regency) == ("JATIM", "35.78")
    assert parse_event(envelope("case.transferred", province="35")).data.province == "JATIM"
    assert parse_event(envelope("case.transferred", province="jatim", regency="3578")).data.regency == "35.78"


def test_a_transfer_to_a_place_that_does_not_exist_is_refused_naming_the_nearest() -> None:
    assert "Jawa Timur (35, JATIM)" in event_refused("case.transferred", province="Jawa Timr")["data.province"]
    errors = event_refused("case.transferred", province="JATIM", regency="Surabya")
    assert "no regency 'Surabya' in Jawa Timur; nearest: Kota Surabaya" in errors["data.regency"]
    assert "elsewhere" in event_refused("case.transferred", province="JATIM", regency="Kabupaten Banjar")[
        "data.regency"]


def test_an_arrival_home_keeps_its_regency_by_code_and_refuses_an_unknown_one() -> None:
    assert parse_event(envelope("repatriation.arrived_home", regency="Kabupaten Banjar")).data.regency == "63.03"
    assert parse_event(envelope("repatriation.arrived_home", regency="banjarmasin")).data.regency == "63.71"
    assert "nearest" in event_refused("repatriation.arrived_home", regency="home regency (not shared)")["data.regency"]
    assert "Kota Banjar (32.79" in event_refused("repatriation.arrived_home", regency="Banjar")["data.regency"]


def test_the_regency_a_victim_returns_to_is_kept_by_code_and_an_unknown_one_refused() -> None:
    done = {"needs_repatriation": False}
    assert parse_event(envelope("rehabilitation.completed", **done, return_to="kab. banjar")).data.return_to == "63.03"
    assert parse_event(envelope("rehabilitation.completed", **done)).data.return_to is None
    assert "nearest" in event_refused("rehabilitation.completed", **done, return_to="Banjr")["data.return_to"]


def test_events_stored_with_free_text_places_load_unchanged() -> None:
    for type_, data in (("case.transferred", {"province": "JATIM", "regency": "Kota Surabaya"}),
                        ("case.transferred", {"province": "XXX", "regency": "nowhere"}),
                        ("repatriation.arrived_home", {"regency": "home regency (not shared with this office)"}),
                        ("rehabilitation.completed", {"needs_repatriation": True, "return_to": "kampung halaman"})):
        stored = EVENT_ADAPTER.validate_python(envelope(type_, **data))
        assert stored.data.model_dump(exclude_none=True) == data


def test_the_cases_own_check_of_an_event_accepts_a_place_by_name() -> None:
    # The case's update validator validates the event it was handed again, as the edges do: by name is no refusal.
    handed = EVENT_ADAPTER.validate_python(envelope("case.transferred", province="JATIM", regency="Kota Surabaya"))
    assert refusal(handed) is None
    unknown = refusal(EVENT_ADAPTER.validate_python(envelope("case.transferred", province="XXX")))
    assert unknown and "province: Value error, no province 'XXX'" in unknown


# --- agreements -----------------------------------------------------------------------------------------------------

def agencies_file(tmp_path: Path, provinces: str, regencies: str) -> Path:
    path = tmp_path / "agencies.toml"
    path.write_text(f'''
[agencies.uptd_ppa_banjar]
name = "UPTD PPA Kabupaten Banjar"
kind = "uptd_ppa"
provinces = {provinces}
regencies = {regencies}
adapter = "webhook"
[agencies.uptd_ppa_banjar.settings]
base_url = "http://127.0.0.1:9100/uptd_ppa_banjar"
''')
    return path


def test_the_shipped_agreement_keeps_its_places_by_code() -> None:
    assert REGISTRY.offices["uptd_ppa_banjar"].regencies == ["63.03"]
    assert REGISTRY.offices["uptd_ppa_banjarmasin"].regencies == ["63.71"]
    assert {p for o in REGISTRY.offices.values() for p in o.provinces} == {"KALSEL", "JATIM"}


@pytest.mark.parametrize(("provinces", "regencies"), [
    ('["KALSEL"]', '["Kabupaten Banjar"]'), ('["63"]', '["63.03"]'), ('["Kalimantan Selatan"]', '["kab. banjar"]'),
    ('["kalsel"]', '["Banjar"]'), ('["KALSEL", "JATIM"]', '["Kabupaten Banjar"]'),
])
def test_an_agreement_names_its_places_by_name_or_code(tmp_path: Path, provinces: str, regencies: str) -> None:
    office = load_registry(agencies_file(tmp_path, provinces, regencies)).offices["uptd_ppa_banjar"]
    assert office.regencies == ["63.03"] and office.provinces[0] == "KALSEL"


@pytest.mark.parametrize(("provinces", "regencies", "needles"), [
    ('["Kalimantan Selatn"]', '[]', ("agencies.uptd_ppa_banjar.provinces", "Kalimantan Selatan (63, KALSEL)")),
    ('["KALSEL"]', '["Banjr"]', ("agencies.uptd_ppa_banjar.regencies", "nearest: Kabupaten Banjar")),
    ('["KALSEL"]', '["Kota Surabaya"]', ("agencies.uptd_ppa_banjar.regencies", "Kota Surabaya (35.78, Jawa Timur)")),
    ('[]', '["Kabupaten Banjar"]', ("Kabupaten Banjar (63.03) is in Kalimantan Selatan", 'provinces = ["KALSEL"]')),
    ('["KALSEL", "JABAR"]', '["Banjar"]', ("ambiguous", "Kabupaten Banjar (63.03)", "Kota Banjar (32.79)")),
])
def test_an_agreement_naming_a_place_that_does_not_exist_is_refused_with_the_nearest(
        tmp_path: Path, provinces: str, regencies: str, needles: tuple[str, ...]) -> None:
    with pytest.raises(RegistryError) as info:
        load_registry(agencies_file(tmp_path, provinces, regencies))
    for needle in needles:
        assert needle in str(info.value)


# --- routing ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("regency", ["63.03", "Kabupaten Banjar", "kab. banjar", "Banjar"])
def test_a_case_holding_its_regency_by_code_or_by_an_older_name_reaches_the_office_of_63_03(regency: str) -> None:
    assert REGISTRY.route("uptd_ppa", "KALSEL", regency).id == "uptd_ppa_banjar"
    assert REGISTRY.route("gugus_tugas", "KALSEL", regency).id == "gugus_tugas_banjar"
    assert REGISTRY.route("gugus_tugas", "KALSEL", regency, level="province").id == "gugus_tugas_kalsel"


@pytest.mark.parametrize("regency", ["kab banjr", "home regency (not shared with this office)", "Kota Surabaya", None])
def test_a_regency_no_office_covers_or_none_can_tell_gets_the_provinces_office(regency: str | None) -> None:
    assert REGISTRY.route("uptd_ppa", "KALSEL", regency).id == "uptd_ppa_kalsel"


def test_an_agreement_written_by_code_routes_a_case_holding_a_name(tmp_path: Path) -> None:
    registry = load_registry(agencies_file(tmp_path, '["63"]', '["63.03"]'))
    assert registry.route("uptd_ppa", "KALSEL", "Kabupaten Banjar").id == "uptd_ppa_banjar"
    assert registry.route("uptd_ppa", "KALSEL", "Kota Banjarmasin") is None  # its only office covers 63.03


def test_an_unknown_province_in_an_older_case_routes_as_before_to_national_offices_only() -> None:
    assert REGISTRY.route("uptd_ppa", "XXX", "Kabupaten Banjar") is None
    assert REGISTRY.route("lpsk", "XXX", None).id == "lpsk"


def test_a_sender_covers_by_code_whether_its_agreement_was_kept_by_name_or_by_code() -> None:
    now = Office(id="uptd_x", name="x", kind="uptd_ppa", provinces=["Kalimantan Selatan"],
                 regencies=["Kabupaten Banjar"]).sender
    assert (now.provinces, now.regencies) == (("KALSEL",), ("63.03",))
    older = Sender(office="uptd_x", provinces=("KALSEL",), regencies=("Kabupaten Banjar",))  # in an older history
    for sender in (now, older):
        assert sender.covers("KALSEL", "63.03") and sender.covers("KALSEL", "Kabupaten Banjar")
        assert not sender.covers("KALSEL", "63.71") and not sender.covers("JATIM", "63.03")


# --- display --------------------------------------------------------------------------------------------------------

def test_a_stored_regency_is_shown_by_name_and_code() -> None:
    assert places.label("63.03") == "Kabupaten Banjar (63.03)"
    assert places.label("Kabupaten Banjar") == "Kabupaten Banjar (63.03)"  # an older case's name
    assert places.label("Banjar", "KALSEL") == "Kabupaten Banjar (63.03)"
    assert places.label("Banjar") == "Banjar"  # two regencies nationally: shown as written
    assert places.label("kab banjr") == "kab banjr"  # a typo an older case holds
    assert places.label(None) == "-" and places.label("") == "-"
    assert places.province_label("KALSEL") == "Kalimantan Selatan (63)"
    assert places.province_label("XXX") == "XXX"


def test_the_referral_page_shows_places_by_name_and_code() -> None:
    from sinergi.gateway.referral_page import _shown_fields
    from sinergi.workflows import messages as m

    def shown(fields: dict[str, Any]) -> dict[str, str]:
        view = m.ReferralPage(case_id="C-1", referral_id="C-1-R002", office="bp3mi_kalsel", service="screening",
                              status="sent", shareable=True, fields=fields,
                              field_names=["province", "regency", "person.home_regency"])
        return dict(_shown_fields(view, "en"))

    assert shown({"province": "KALSEL", "regency": "63.03", "person": {"home_regency": "35.78"}}) == {
        "Province": "Kalimantan Selatan (63)", "Regency or city": "Kabupaten Banjar (63.03)",
        "Home regency or city": "Kota Surabaya (35.78)"}
    older = shown({"province": "KALSEL", "regency": "Banjar", "person": {"home_regency": "kampung halaman"}})
    assert (older["Regency or city"], older["Home regency or city"]) == ("Kabupaten Banjar (63.03)", "kampung halaman")
