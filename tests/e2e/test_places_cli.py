"""Places as an operator meets them (SPEC "Places", issue 23): an intake naming its places by name or code opens a
case that holds them by code; one naming a place that does not exist is refused (exit 2) with the nearest names,
and no case is opened."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cli_kit import Cli, assert_json_error, assert_user_error, intake_dict


def write(work: Path, name: str, raw: dict) -> Path:
    path = work / name
    path.write_text(json.dumps(raw))
    return path


async def test_an_intake_naming_a_place_that_does_not_exist_exits_2_with_the_nearest_names(offline_cli: Cli,
                                                                                           home: Path):
    # Refused before Temporal is asked anything: the offline CLI answers 2, not 3 (unreachable).
    work = home / "work"
    files = {
        "province": write(work, "province.json", intake_dict(province="XXX")),
        "typo": write(work, "typo.json", intake_dict(province="Kalimantan Selatn")),
        "regency": write(work, "regency.json", intake_dict(regency="Banjr", person={"home_regency": "Kota Surabya"})),
        "elsewhere": write(work, "elsewhere.json", intake_dict(regency="Kota Surabaya")),
    }
    runs = {name: offline_cli("case", "open", str(path)) for name, path in files.items()}
    runs["json"] = offline_cli("case", "open", str(files["regency"]), "--json")
    results = dict(zip(runs, await asyncio.gather(*runs.values()), strict=True))

    assert_user_error(results["province"], 2, "province.json", "province", "no province 'XXX'; nearest:")
    assert_user_error(results["typo"], 2, "province", "nearest: Kalimantan Selatan (63, KALSEL)")
    assert_user_error(results["regency"], 2, "regency", "no regency 'Banjr' in Kalimantan Selatan",
                      "nearest: Kabupaten Banjar, Kota Banjarbaru, Kota Banjarmasin",
                      "person.home_regency", "Kota Surabaya (Jawa Timur)")
    assert_user_error(results["elsewhere"], 2, "regency", "Kota Surabaya (35.78, Jawa Timur)")
    body = assert_json_error(results["json"], 2, "invalid_intake", "nearest: Kabupaten Banjar")
    assert {d["field"] for d in body["details"]} == {"regency", "person.home_regency"}


async def test_an_intake_naming_its_places_by_name_or_code_opens_a_case_holding_their_codes(cli: Cli, home: Path):
    work = home / "work"
    path = write(work, "forgiving.json", intake_dict(province="63", regency="kab. banjar",
                                                     person={"home_regency": "Banjar"}))
    opened = await cli("case", "open", str(path), "--json")
    assert opened.code == 0, str(opened)
    case_id = opened.json()["case_id"]
    status = await cli("case", "status", case_id, "--json")
    assert status.code == 0, str(status)
    assert (status.json()["province"], status.json()["regency"]) == ("KALSEL", "63.03")
