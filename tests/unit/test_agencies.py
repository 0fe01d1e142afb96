"""The agreement registry (SPEC `agencies.toml`): loading, routing by jurisdiction, and precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sinergi.agencies import RegistryError, load_registry
from sinergi.domain.agencies import Office
from sinergi.domain.agency_kinds import AGENCY_KINDS
from sinergi.domain.events import EVENT_TYPES
from sinergi.domain.intake import shareable_fields

REGISTRY = load_registry("sandbox")


def route(kind: str, province: str = "KALSEL", regency: str | None = None, **kw) -> str | None:
    office = REGISTRY.route(kind, province, regency, **kw)
    return office.id if office else None


def test_the_sandbox_registry_loads_with_an_office_of_every_kind_for_kalsel() -> None:
    kinds = {o.kind for o in REGISTRY.offices.values() if "KALSEL" in o.provinces or not o.provinces}
    assert kinds == set(AGENCY_KINDS)


def test_every_sandbox_office_is_keyed_by_its_own_id_and_commits_to_a_response_time() -> None:
    for key, office in REGISTRY.offices.items():
        assert office.id == key
        assert office.response_seconds > 0


def test_a_kabupaten_banjar_case_reaches_the_banjar_office_not_banjarmasin() -> None:
    assert route("uptd_ppa", regency="Kabupaten Banjar") == "uptd_ppa_banjar"
    assert route("uptd_ppa", regency="Kota Banjarmasin") == "uptd_ppa_banjarmasin"


def test_a_regency_without_its_own_office_gets_the_province_office() -> None:
    assert route("uptd_ppa", regency="Kabupaten Tanah Laut") == "uptd_ppa_kalsel"
    assert route("dinsos", regency="Kabupaten Banjar") == "dinsos_kalsel"


def test_a_case_with_no_regency_gets_the_province_office() -> None:
    assert route("uptd_ppa", regency=None) == "uptd_ppa_kalsel"
    assert route("gugus_tugas", regency=None) == "gugus_tugas_kalsel"


def test_a_regency_office_of_another_province_is_never_chosen() -> None:
    assert route("uptd_ppa", "JATIM", "Kabupaten Banjar") == "uptd_ppa_jatim"


def test_a_national_office_serves_every_province() -> None:
    assert route("lpsk", "KALSEL", "Kabupaten Banjar") == "lpsk"
    assert route("lpsk", "JATIM") == "lpsk"


def test_no_office_is_found_where_the_agreement_has_none() -> None:
    assert route("imigrasi", "ACEH") is None
    assert route("uptd_ppa", "ACEH") is None


@pytest.mark.branch("abroad")
def test_a_victim_in_malaysia_is_routed_to_kbri_kuala_lumpur() -> None:
    assert route("kbri", regency="Kabupaten Banjar", country="MY") == "kbri_kuala_lumpur"


@pytest.mark.branch("abroad")
def test_a_victim_in_a_country_without_a_mission_office_goes_to_the_national_kemlu_pwni() -> None:
    assert route("kbri", regency="Kabupaten Banjar", country="SA") == "kemlu_pwni"
    assert route("kbri", regency=None, country=None) == "kemlu_pwni"


def test_the_province_level_skips_regency_offices() -> None:
    assert route("gugus_tugas", regency="Kabupaten Banjar") == "gugus_tugas_banjar"
    assert route("gugus_tugas", regency="Kabupaten Banjar", level="province") == "gugus_tugas_kalsel"
    assert route("uptd_ppa", regency="Kabupaten Banjar", level="province") == "uptd_ppa_kalsel"


def test_the_regency_level_prefers_the_regency_office() -> None:
    assert route("gugus_tugas", regency="Kabupaten Banjar", level="regency") == "gugus_tugas_banjar"


def test_may_send_matches_event_types_by_glob() -> None:
    police = Office(id="polda_x", name="x", kind="polri",
                    may_send=["identification.police_report_filed", "legal.*", "referral.*"])
    assert police.may_send_type("identification.police_report_filed")
    assert police.may_send_type("legal.judgment_final")
    assert not police.may_send_type("identification.screening_completed")
    assert not police.may_send_type("consent.withdrawn")


def test_the_task_force_may_send_nothing_but_referral_answers() -> None:
    task_force = REGISTRY.offices["gugus_tugas_kalsel"]
    assert task_force.may_send_type("referral.acknowledged")
    assert not any(task_force.may_send_type(t) for t in EVENT_TYPES if not t.startswith("referral."))


def test_allowed_fields_expand_receives_globs_against_the_intake() -> None:
    assert REGISTRY.offices["lpsk"].allowed_fields() == [
        "person.full_name", "person.date_of_birth", "situation.exploitation", "is_child"]
    bp3mi = REGISTRY.offices["bp3mi_kalsel"].allowed_fields()
    assert {f for f in shareable_fields() if f.startswith("person.")} <= set(bp3mi)
    assert "flags.sexual_exploitation" not in bp3mi


def test_every_sandbox_may_send_pattern_matches_a_real_event_type() -> None:
    import fnmatch

    for office in REGISTRY.offices.values():
        for pattern in office.may_send:
            assert fnmatch.filter(EVENT_TYPES, pattern), (office.id, pattern)


# --- bad agencies files ----------------------------------------------------------------------------

GOOD = """\
[agencies.uptd_ppa_kalsel]
name = "UPTD PPA Provinsi Kalimantan Selatan"
kind = "uptd_ppa"
provinces = ["KALSEL"]
regencies = []
adapter = "webhook"
response_time = "24h"
may_send = ["protection.*", "referral.*", "consent.*"]
receives = ["person.full_name", "person.sex", "person.date_of_birth", "situation.*"]
[agencies.uptd_ppa_kalsel.settings]
base_url = "http://127.0.0.1:9101"
outbound_secret_env = "SINERGI_UPTD_PPA_KALSEL_OUT"
"""


def refused(tmp_path: Path, text: str) -> str:
    path = tmp_path / "agencies.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    message = str(info.value)
    assert all(line.startswith(f"{path}: ") for line in message.splitlines()), "every line names the file"
    return message


def test_the_spec_example_office_loads(tmp_path: Path) -> None:
    path = tmp_path / "agencies.toml"
    path.write_text(GOOD, "utf-8")
    office = load_registry(path).offices["uptd_ppa_kalsel"]
    assert office.settings["base_url"] == "http://127.0.0.1:9101"
    assert office.response_seconds == 86400


def test_an_unknown_key_is_named_as_agencies_office_key(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('adapter = "webhook"', 'adapter = "webhook"\nphone = "0511"'))
    assert "agencies.uptd_ppa_kalsel.phone: Extra inputs are not permitted" in message


def test_a_bad_kind_is_named(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('kind = "uptd_ppa"', 'kind = "court"'))
    assert "agencies.uptd_ppa_kalsel.kind:" in message and "'uptd_ppa'" in message


def test_a_may_send_glob_matching_no_event_type_is_named(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('"consent.*"]', '"consents.*"]'))
    assert "agencies.uptd_ppa_kalsel.may_send:" in message and "'consents.*' matches no event type" in message


def test_a_receives_glob_matching_no_intake_field_is_named(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('"person.sex"', '"person.gender"'))
    assert "agencies.uptd_ppa_kalsel.receives:" in message and "'person.gender' matches no intake field" in message


def test_consent_records_can_never_be_received(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('"situation.*"]', '"situation.*", "consent.*"]'))
    assert "agencies.uptd_ppa_kalsel.receives:" in message


@pytest.mark.parametrize("bad", ["one day", "3wd", "24"])
def test_a_bad_response_time_is_named(tmp_path: Path, bad: str) -> None:
    message = refused(tmp_path, GOOD.replace('response_time = "24h"', f'response_time = "{bad}"'))
    assert "agencies.uptd_ppa_kalsel.response_time:" in message


def test_a_bad_office_id_is_named(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace("uptd_ppa_kalsel]", "UPTD-PPA]").replace(
        "uptd_ppa_kalsel.settings]", "UPTD-PPA.settings]"))
    assert "agencies.UPTD-PPA.id:" in message


def test_an_id_that_contradicts_the_table_key_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, GOOD.replace('name = "UPTD', 'id = "uptd_ppa_banjar"\nname = "UPTD'))
    assert "agencies.uptd_ppa_kalsel: expected an [agencies.uptd_ppa_kalsel] table" in message


def test_an_office_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    assert "agencies.lpsk: expected" in refused(tmp_path, '[agencies]\nlpsk = "national"\n')


def test_errors_of_several_offices_are_reported_together(tmp_path: Path) -> None:
    second = GOOD.replace("uptd_ppa_kalsel", "dinsos_kalsel").replace('kind = "uptd_ppa"', 'kind = "social"')
    message = refused(tmp_path, GOOD.replace('response_time = "24h"', 'response_time = "soon"') + second)
    assert "agencies.uptd_ppa_kalsel.response_time" in message and "agencies.dinsos_kalsel.kind" in message


def test_an_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    assert "unknown top-level key(s) ['agency']" in refused(tmp_path, GOOD.replace("[agencies.", "[agency."))


def test_a_file_without_offices_is_refused(tmp_path: Path) -> None:
    assert "no offices" in refused(tmp_path, "# empty\n")


def test_toml_syntax_errors_are_registry_errors(tmp_path: Path) -> None:
    assert "not valid TOML" in refused(tmp_path, GOOD.replace('kind = "uptd_ppa"', "kind = uptd_ppa"))


def test_a_missing_agencies_file_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read the agencies file"):
        load_registry(tmp_path / "nowhere.toml")


def test_an_office_covers_its_countries_or_its_jurisdiction() -> None:
    mission = Office(id="kbri_x", name="x", kind="kbri", countries=["MY"]).sender
    assert mission.covers("KALSEL", None, "MY") and not mission.covers("KALSEL", None, "SG")
    regency = Office(id="uptd_x", name="x", kind="uptd_ppa", provinces=["KALSEL"],
                     regencies=["Kabupaten Banjar"]).sender
    assert regency.covers("KALSEL", "Kabupaten Banjar") and not regency.covers("KALSEL", "Kota Banjarmasin")
    assert Office(id="lpsk_x", name="x", kind="lpsk").sender.covers("JATIM", None)


def test_a_finished_case_counts_as_parties_only_its_offices_never_the_offices_covering_its_place() -> None:
    province = Office(id="uptd_ppa_x", name="x", kind="uptd_ppa", provinces=["KALSEL"]).sender
    assert not province.is_party(["lpsk", "lpsk_pusat"])  # covering KALSEL is not taking part
    assert province.is_party(["uptd_ppa_x"])  # referred: a party wherever the case is
    mission = Office(id="kbri_x", name="x", kind="kbri", countries=["MY"]).sender
    assert not mission.is_party(["kbri"])  # the kind alone is not the office
    assert mission.is_party(["kbri", "kbri_x"])


def test_an_office_as_sender_carries_its_agreement_for_the_case_to_check() -> None:
    office = Office(id="ngo_x", name="x", kind="ngo", may_send=["referral.*"])
    assert office.sender.may_send == ("referral.*",)
    assert office.may_send_type("referral.accepted") and not office.may_send_type("case.opened")
