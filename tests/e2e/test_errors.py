"""Exit codes 2 (bad input) and 3 (Temporal unreachable), and configuration errors, as an operator meets them:
a message on stderr naming the field (or file and key) and the fix, never a traceback, nothing on stdout."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import yaml
from cli_kit import Cli, assert_json_error, assert_user_error, intake_dict

SCREENED = '{"outcome": "presumed_victim"}'


async def test_bad_input_exits_2_naming_the_field_and_the_fix(cli: Cli, home: Path):
    work = home / "work"
    invalid = intake_dict(person={"date_of_birth": "14-03-2001"})
    del invalid["province"]
    (work / "invalid.json").write_text(json.dumps(invalid))
    (work / "unknown.yaml").write_text(yaml.safe_dump(intake_dict(person={"nickname": "Sri"})))
    good = work / "good.json"
    good.write_text(json.dumps(intake_dict()))
    case_id = "KALSEL-2026-NOSUCH00"  # every check below but one fails before the case is looked up

    runs = {
        "invalid intake": cli("case", "open", str(work / "invalid.json")),
        "unknown field": cli("case", "open", str(work / "unknown.yaml")),
        "bad --id": cli("case", "open", str(good), "--id", "not a valid id"),
        "unknown type": cli("case", "event", case_id, "protection.bogus"),
        "unknown type --as": cli("case", "event", case_id, "protection.bogus", "--as", "lpsk"),
        "malformed --data": cli("case", "event", case_id, "identification.screening_completed", "--data",
                                '{"outcome": '),
        "invalid data": cli("case", "event", case_id, "identification.screening_completed", "--data",
                            '{"outcome": "maybe"}', "--json"),
        "missing @FILE": cli("case", "event", case_id, "protection.shelter_admitted", "--data",
                             f"@{work / 'missing.json'}"),
        "missing intake": cli("case", "open", str(work / "nope.json")),
        "unknown office": cli("case", "event", case_id, "identification.screening_completed", "--data", SCREENED,
                              "--as", "nobody_kalsel"),
        "unknown case": cli("case", "status", case_id, "--json"),
    }
    results = dict(zip(runs, await asyncio.gather(*runs.values()), strict=True))

    assert_user_error(results["invalid intake"], 2, "invalid.json", "province", "person.date_of_birth",
                      "14-03-2001", "hint: see examples/")
    assert_user_error(results["unknown field"], 2, "unknown.yaml", "person.nickname")
    assert_user_error(results["bad --id"], 2, "--id", "not a valid id", "e.g. KALSEL-2026-7Q2M9XKD")
    assert_user_error(results["unknown type"], 2, "unknown event type 'protection.bogus'",
                      "known types: protection.shelter_admitted")
    # Bad input is exit 2 even on behalf of an office (not "refused by its agreement", exit 1).
    assert_user_error(results["unknown type --as"], 2, "unknown event type 'protection.bogus'")
    assert_user_error(results["malformed --data"], 2, "--data", "not valid JSON", "hint: e.g. --data")
    # With --json the error is JSON on stdout, naming the field and what it allows.
    invalid = assert_json_error(results.pop("invalid data"), 2, "invalid_event", "data.outcome", "'maybe'")
    assert invalid["details"][0]["allowed"] == ["presumed_victim", "not_victim", "needs_more_info"], invalid
    assert_user_error(results["missing @FILE"], 2, "missing.json", "cannot read")
    assert_user_error(results["unknown office"], 2, "--as", "nobody_kalsel", "sinergi agencies list")
    unknown = assert_json_error(results.pop("unknown case"), 2, "case_not_found", f"no case {case_id}")
    assert "sinergi case list" in unknown["hint"]
    # Click's own usage errors: exit 2, the argument named, no traceback either.
    missing = results.pop("missing intake")
    assert missing.code == 2 and "Traceback" not in missing.stderr, str(missing)
    assert "nope.json" in missing.stderr and "does not exist" in missing.stderr
    for result in results.values():
        assert result.stdout == "", str(result)  # without --json, nothing on stdout


async def test_temporal_unreachable_exits_3_naming_the_address(offline_cli: Cli, home: Path):
    intake = home / "work" / "intake.json"
    intake.write_text(json.dumps(intake_dict()))
    opened, status, listed = await asyncio.gather(
        offline_cli("case", "open", str(intake), "--json"),
        offline_cli("case", "status", "KALSEL-2026-AAAAAAAA"),
        offline_cli("case", "list", "--output", "jsonl"))
    assert_user_error(status, 3, "cannot reach Temporal at 127.0.0.1:1", "hint: is Temporal running?")
    assert status.stdout == "", str(status)
    for result in (opened, listed):
        body = assert_json_error(result, 3, "temporal_unavailable", "cannot reach Temporal at 127.0.0.1:1")
        assert "is Temporal running?" in body["hint"]
    assert len(listed.stdout.splitlines()) == 1  # JSON Lines: the error on one line


async def test_configuration_errors_name_the_file_and_the_key(offline_cli: Cli, home: Path):
    work = home / "work"
    (work / "sinergi.toml").write_text("[gatewy]\nport = 8080\n")  # found in the working folder
    elsewhere = home / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "ops.toml").write_text('[temporal]\naddress = "127.0.0.1:7233"\n[gateway]\nport = "abc"\nprot = 1\n')
    (elsewhere / "broken.toml").write_text("[dev]\nui_port = \n")
    (elsewhere / "empty.toml").write_text("")
    by_variable = offline_cli.with_env(SINERGI_CONFIG=str(elsewhere / "none-here.toml"))

    in_cwd, with_option, env_value, syntax, missing = await asyncio.gather(
        offline_cli("policy", "show"),
        offline_cli("case", "status", "KALSEL-2026-AAAAAAAA", "--config", str(elsewhere / "ops.toml")),
        offline_cli("policy", "show", "--json", "--config", str(elsewhere / "empty.toml"),
                    env={"SINERGI_GATEWAY_PORT": "abc"}),
        offline_cli("policy", "show", "--config", str(elsewhere / "broken.toml")),
        by_variable("policy", "show"))

    assert_user_error(in_cwd, 2, "sinergi.toml: gatewy: unknown section", "gateway")
    ops = str(elsewhere / "ops.toml")
    assert_user_error(with_option, 2, f"{ops}: gateway.port: expected an integer, got 'abc'",
                      f"{ops}: gateway.prot: unknown key", "port")
    # A bad value from the environment names the variable, not the file (with --json: as JSON on stdout).
    assert_json_error(env_value, 2, "invalid_config", "SINERGI_GATEWAY_PORT: gateway.port: expected an integer")
    assert_user_error(syntax, 2, "broken.toml", "invalid TOML", "line 2")
    assert_user_error(missing, 2, "none-here.toml", "not found")
    for result in (in_cwd, with_option, syntax, missing):
        assert result.stdout == "", str(result)

