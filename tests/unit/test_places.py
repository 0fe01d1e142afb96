"""Places (SPEC "Places"): Kemendagri province and regency codes and names, matched forgivingly, an unknown place
refused with the nearest names, an ambiguous one with every candidate."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from sinergi.domain import places
from sinergi.domain.durations import PROVINCE_UTC_OFFSET_HOURS
from sinergi.domain.places import (
    AmbiguousPlace,
    Province,
    Regency,
    UnknownPlace,
    all_provinces,
    all_regencies,
    province,
    regencies_of,
    regency,
)

# The decree's recapitulation (Kepmendagri 300.2.2-2138/2025): kabupaten and kota per province.
DECREE_COUNTS = {
    "11": (18, 5), "12": (25, 8), "13": (12, 7), "14": (10, 2), "15": (9, 2), "16": (13, 4), "17": (9, 1),
    "18": (13, 2), "19": (6, 1), "21": (5, 2), "31": (1, 5), "32": (18, 9), "33": (29, 6), "34": (4, 1),
    "35": (29, 9), "36": (4, 4), "51": (8, 1), "52": (8, 2), "53": (21, 1), "61": (12, 2), "62": (13, 1),
    "63": (11, 2), "64": (7, 3), "65": (4, 1), "71": (11, 4), "72": (12, 1), "73": (21, 3), "74": (15, 2),
    "75": (5, 1), "76": (6, 0), "81": (9, 2), "82": (8, 2), "91": (8, 1), "92": (7, 0), "93": (4, 0),
    "94": (8, 0), "95": (8, 0), "96": (5, 1),
}

KALSEL = {
    "63.01": "Kabupaten Tanah Laut", "63.02": "Kabupaten Kotabaru", "63.03": "Kabupaten Banjar",
    "63.04": "Kabupaten Barito Kuala", "63.05": "Kabupaten Tapin", "63.06": "Kabupaten Hulu Sungai Selatan",
    "63.07": "Kabupaten Hulu Sungai Tengah", "63.08": "Kabupaten Hulu Sungai Utara", "63.09": "Kabupaten Tabalong",
    "63.10": "Kabupaten Tanah Bumbu", "63.11": "Kabupaten Balangan", "63.71": "Kota Banjarmasin",
    "63.72": "Kota Banjarbaru",
}


# --- the data -------------------------------------------------------------------------------------------------

def test_the_decree_has_38_provinces_and_514_regencies() -> None:
    assert len(all_provinces()) == 38
    assert len(all_regencies()) == 514
    kinds = [r.kind for r in all_regencies()]
    assert (kinds.count("kabupaten"), kinds.count("kota")) == (416, 98)


def test_each_province_has_the_decrees_count_of_kabupaten_and_kota() -> None:
    assert {p.code for p in all_provinces()} == set(DECREE_COUNTS)
    for p in all_provinces():
        kinds = [r.kind for r in regencies_of(p)]
        assert (kinds.count("kabupaten"), kinds.count("kota")) == DECREE_COUNTS[p.code], p.name


def test_kalimantan_selatan_has_its_13_regencies_with_their_codes() -> None:
    assert province("KALSEL") == Province("63", "KALSEL", "Kalimantan Selatan", "WITA", "Asia/Makassar")
    assert {r.code: r.name for r in regencies_of("KALSEL")} == KALSEL
    assert all(r.province_code == "63" for r in regencies_of("63"))


def test_every_regency_code_is_its_provinces_code_and_two_digits() -> None:
    for r in all_regencies():
        assert r.code[:2] == r.province_code and r.code[2] == "." and r.code[3:].isdigit() and len(r.code) == 5
        assert r.province.code == r.province_code
        assert r.name.startswith("Kabupaten " if r.kind == "kabupaten" else "Kota "), r


def test_no_code_or_name_is_listed_twice() -> None:
    codes = [r.code for r in all_regencies()] + [p.code for p in all_provinces()]
    assert len(codes) == len(set(codes))
    assert len({r.name for r in all_regencies()}) == 514
    assert len({p.name for p in all_provinces()}) == len({p.short for p in all_provinces()}) == 38


def test_the_data_files_name_their_decree_and_source() -> None:
    for name in ("provinces.csv", "regencies.csv"):
        header = resources.files("sinergi.domain").joinpath("data").joinpath(name).read_text(encoding="utf-8")
        assert "300.2.2-2138 Tahun 2025" in header and "cahyadsn/wilayah" in header, name
    assert places.DECREE == "Kepmendagri No. 300.2.2-2138 Tahun 2025"


# --- provinces: short codes, zones --------------------------------------------------------------------------

def test_every_short_code_sinergi_uses_is_a_province_and_maps_both_ways() -> None:
    assert {p.short for p in all_provinces()} == set(PROVINCE_UTC_OFFSET_HOURS)
    for p in all_provinces():
        assert province(p.short) == province(p.code) == province(p.name) == p
        assert places.province_code(p.short) == p.code and places.province_short(p.code) == p.short
    assert places.province_code("KALSEL") == "63" and places.province_short("63") == "KALSEL"


def test_each_provinces_zone_is_the_one_sinergi_counts_working_days_in() -> None:
    moment = datetime(2026, 7, 1, 12)
    for p in all_provinces():
        assert p.utc_offset_hours == PROVINCE_UTC_OFFSET_HOURS[p.short], p.name
        assert ZoneInfo(p.tz).utcoffset(moment) == timedelta(hours=p.utc_offset_hours), p.name
    assert {p.short for p in all_provinces() if p.zone == "WITA"} >= {"KALSEL", "BALI", "SULSEL"}
    assert (province("KALBAR").zone, province("KALBAR").tz) == ("WIB", "Asia/Pontianak")
    assert (province("PAPUA").zone, province("MALUKU").zone) == ("WIT", "WIT")


@pytest.mark.parametrize("text", ["KALSEL", "63", "Kalimantan Selatan", "kalimantan selatan", "Kalsel",
                                  " KALIMANTAN  SELATAN ", "Kal-Sel", "Provinsi Kalimantan Selatan",
                                  "prov. kalsel", province("63")])
def test_a_province_is_found_by_code_short_code_or_name(text: str | Province) -> None:
    assert province(text).code == "63"


@pytest.mark.parametrize(("text", "code"), [("DKI Jakarta", "31"), ("Jakarta", "31"), ("DKI", "31"),
                                            ("DI Yogyakarta", "34"), ("Yogyakarta", "34"), ("DIY", "34"),
                                            ("Bangka Belitung", "19"), ("Sumatra Utara", "12"),
                                            ("Kep. Riau", "21"), ("Papua Barat Daya", "96"), ("PBD", "96"),
                                            ("KALTARA", "65"), ("KALUT", "65"), ("Papua Barat", "92")])
def test_a_province_is_found_by_the_names_people_write(text: str, code: str) -> None:
    assert province(text).code == code


def test_an_unknown_province_is_refused_with_the_nearest() -> None:
    with pytest.raises(UnknownPlace) as refused:
        province("Kalimantan Selatn")
    assert str(refused.value).startswith("no province 'Kalimantan Selatn'; nearest: Kalimantan Selatan (63, KALSEL)")
    assert refused.value.nearest[0].code == "63"
    for nonsense in ("XXX", "", "99", "63.03"):
        with pytest.raises(UnknownPlace):
            province(nonsense)
    assert issubclass(UnknownPlace, ValueError) and issubclass(AmbiguousPlace, ValueError)


# --- regencies: forgiving names, ambiguity, unknowns ----------------------------------------------------------

@pytest.mark.parametrize(("text", "within"), [
    ("63.03", None), ("6303", None), (" 63.03 ", None), ("63 03", None), ("Kabupaten Banjar", None),
    ("kab. banjar", None), ("Kab Banjar", None), ("KAB.BANJAR", None), ("kabupaten  banjar", None),
    ("Banjar", "KALSEL"), ("banjar", "63"), ("Banjar", "Kalimantan Selatan"), ("kab banjar", "kalsel"),
])
def test_kabupaten_banjar_is_found_however_it_is_written(text: str, within: str | None) -> None:
    assert regency(text, within) == Regency("63.03", "Kabupaten Banjar", "63")


@pytest.mark.parametrize(("text", "code"), [
    ("Kota Banjarmasin", "63.71"), ("banjarmasin", "63.71"), ("BANJARMASIN", "63.71"), ("Kota Banjarbaru", "63.72"),
    ("Banjar Baru", "63.72"), ("Kotabaru", "63.02"), ("Kota Baru", "63.02"), ("Hulu Sungai Tengah", "63.07"),
    ("Kota Banjar", "32.79"), ("Palangka Raya", "62.71"), ("Kota Palangkaraya", "62.71"), ("Baubau", "74.72"),
    ("Kota Bau-Bau", "74.72"), ("Fakfak", "92.03"), ("Tolitoli", "72.04"), ("Tojo Una-Una", "72.09"),
    ("Kepulauan Siau Tagulandang Biaro", "71.09"), ("Kep. Siau Tagulandang Biaro", "71.09"),
    ("Jakarta Utara", "31.72"), ("Kota Jakarta Utara", "31.72"), ("Kota Adm. Jakarta Utara", "31.72"),
    ("Kepulauan Seribu", "31.01"), ("Kota Sorong", "96.71"), ("Kabupaten Sorong", "96.01"),
])
def test_a_regency_is_found_case_punctuation_and_space_insensitively(text: str, code: str) -> None:
    assert regency(text).code == code


def test_every_regency_is_found_by_its_code_and_by_its_name_and_labelled_with_both() -> None:
    for r in all_regencies():
        assert regency(r.code) == regency(r.code.replace(".", "")) == regency(r.name) == r
        assert regency(r.name, r.province_code) == regency(r.name.lower(), r.province.short) == r
        assert regency(r) == r and r.label == f"{r.name} ({r.code})"
    assert province("KALSEL").label == "Kalimantan Selatan (63)"
    assert regency("63.03").label == "Kabupaten Banjar (63.03)"


def test_banjar_alone_is_refused_nationally_with_both_banjars() -> None:
    with pytest.raises(AmbiguousPlace) as refused:
        regency("Banjar")
    assert {c.code for c in refused.value.candidates} == {"63.03", "32.79"}
    message = str(refused.value)
    assert "Kabupaten Banjar (63.03, Kalimantan Selatan)" in message and "Kota Banjar (32.79, Jawa Barat)" in message
    assert regency("Banjar", "JABAR").code == "32.79"


def test_a_kabupaten_and_a_kota_of_one_name_need_the_word() -> None:
    with pytest.raises(AmbiguousPlace) as refused:
        regency("Bima", "NTB")
    assert [c.code for c in refused.value.candidates] == ["52.06", "52.72"]
    assert "'Kabupaten Bima' or 'Kota Bima'" in str(refused.value)
    assert regency("Kab. Bima", "NTB").code == "52.06" and regency("kota bima").code == "52.72"


def test_an_unknown_regency_is_refused_with_the_nearest_names() -> None:
    with pytest.raises(UnknownPlace) as refused:
        regency("Banjr", "KALSEL")
    message = str(refused.value)
    assert message.startswith("no regency 'Banjr' in Kalimantan Selatan; nearest: Kabupaten Banjar")
    assert {r.code for r in refused.value.nearest} == {"63.03", "63.71", "63.72"}
    with pytest.raises(UnknownPlace, match=r"in Indonesia; nearest: .*Kabupaten Banjar \(Kalimantan Selatan\)"):
        regency("Banjr")
    with pytest.raises(UnknownPlace, match="nearest: "):
        regency("home regency (not shared with this office)", "KALSEL")


def test_a_regency_outside_the_province_given_is_refused() -> None:
    with pytest.raises(UnknownPlace, match=r"Kota Banjar \(32.79\) in Jawa Barat, not in Kalimantan Selatan"):
        regency("32.79", "KALSEL")
    with pytest.raises(UnknownPlace, match=r"no regency 'Kota Banjarmasin' in Jawa Barat \(elsewhere: Kota "
                                           r"Banjarmasin \(63.71, Kalimantan Selatan\)\); nearest: "):
        regency("Kota Banjarmasin", "JABAR")


@pytest.mark.parametrize(("text", "expected"), [
    ("63.99", "no regency 63.99 in Kalimantan Selatan; nearest: "), ("99.01", "no province has code 99"),
    ("", "no regency given"), ("   ", "no regency given"),
])
def test_an_unknown_code_or_nothing_is_refused(text: str, expected: str) -> None:
    with pytest.raises(UnknownPlace, match=expected):
        regency(text)


def test_the_province_of_an_unknown_scope_is_refused_first() -> None:
    with pytest.raises(UnknownPlace, match="no province 'XXX'"):
        regency("Banjar", "XXX")
    with pytest.raises(UnknownPlace, match="no province"):
        regencies_of("Kalimantan")


# --- purity ---------------------------------------------------------------------------------------------------

def test_importing_the_module_reads_no_file_and_the_first_lookup_reads_the_data_once() -> None:
    # A fresh interpreter: every file opened through open()/io.open is seen (importlib.resources opens with io.open;
    # the import system reads modules with io.open_code, which is not patched).
    code = """if True:
        import builtins, io, json
        opened = []
        real_open = io.open
        def spy(file, *args, **kwargs):
            opened.append(str(file))
            return real_open(file, *args, **kwargs)
        builtins.open = io.open = spy
        from sinergi.domain import places
        after_import = list(opened), places._places.cache_info().currsize
        places.regency("Banjar", "KALSEL"); places.province("JATIM"); places.all_regencies()
        print(json.dumps({"import": after_import, "use": opened}))
    """
    out = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    assert out["import"] == [[], 0]
    assert sorted(name.rsplit("/", 1)[-1] for name in out["use"]) == ["provinces.csv", "regencies.csv"]


def test_the_module_imports_only_the_standard_library() -> None:
    code = "import json, sys; before = set(sys.modules); import sinergi.domain.places; " \
           "print(json.dumps(sorted(set(sys.modules) - before)))"
    added = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    assert [m for m in added if m.startswith("sinergi")] == ["sinergi", "sinergi.domain", "sinergi.domain.places"]
    assert not [m for m in added if m.split(".")[0] in {"pydantic", "temporalio", "yaml", "tomllib", "zoneinfo"}]
