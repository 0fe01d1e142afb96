"""Every `sinergi case` command as a subprocess against the dev server and a real worker: the lifecycle of a
case (open from JSON and YAML, status, event as an operator and `--as` an office, refusals, timeline, why,
close), `case list` and its filters, and bulk intake. `--json` output is checked against SPEC "JSON shapes"."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from cli_kit import ANSI, Cli, Result, assert_aligned, assert_user_error, intake_dict

from sinergi.testing.waiting import eventually as _eventually

T = TypeVar("T")

CASE_ID = re.compile(r"^KALSEL-2026-[0-9A-HJKMNP-TV-Z]{8}$")  # SPEC "Identity": Crockford base32
STATUS_KEYS = {"case_id", "stage", "closed", "closure_reason", "province", "regency", "is_child", "referrals",
               "clocks", "breaches", "escalations", "manual_tasks", "consent"}
REFERRAL_KEYS = {"referral_id", "agency", "service", "status", "due_at"}
CLOCK_KEYS = {"id", "kind", "source", "started_at", "due_at", "state"}
CLOCK_STATES = {"running", "stopped", "paused", "breached", "cancelled"}
BREACH_KEYS = {"clock", "source", "at"}
ESCALATION_KEYS = {"clock", "rung", "agency", "at"}
MANUAL_TASK_KEYS = {"id", "agency", "reason"}
CONSENT_KEYS = {"services", "data_sharing", "legal"}
EVENT_KEYS = {"case_id", "event_id", "stage", "duplicate"}
LIST_KEYS = {"case_id", "stage", "province", "opened_at", "escalated"}
# Kalimantan Selatan's zone, a time as people write it (SPEC "Language": `27 November 2026 08:00 WITA` in English).
WITA = re.compile(r"\b\d{1,2} [A-Z][a-z]+ \d{4} \d\d:\d\d WITA\b")
SCREENED = '{"outcome": "presumed_victim"}'


def eventually(check, timeout: float = 25.0):
    """Visibility (case list) lags writes by a second or two; each CLI run costs CPU, so poll gently."""
    return _eventually(check, timeout, interval=0.5)


async def gather(*runs: Awaitable[T]) -> list[T]:
    """Independent CLI runs side by side: the suite's time is mostly process start-up."""
    return list(await asyncio.gather(*runs))



def ok(result: Result, as_json: bool = False) -> Any:
    assert result.code == 0, str(result)
    assert "Traceback" not in result.stderr, str(result)
    assert not ANSI.search(result.stdout + result.stderr), f"colour codes on a pipe\n{result}"
    return result.json() if as_json else result.stdout


def aware(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value} has no offset"
    return parsed


def check_status_shape(status: dict[str, Any]) -> None:
    """SPEC `case status --json`, down to every list item; no personal data."""
    assert set(status) >= STATUS_KEYS, STATUS_KEYS - set(status)
    assert isinstance(status["closed"], bool) and isinstance(status["is_child"], bool)
    for referral in status["referrals"]:
        assert set(referral) >= REFERRAL_KEYS, referral
        aware(referral["due_at"])
    for clock in status["clocks"]:
        assert set(clock) >= CLOCK_KEYS, clock
        assert clock["state"] in CLOCK_STATES, clock
        aware(clock["started_at"])
        aware(clock["due_at"])
    for breach in status["breaches"]:
        assert set(breach) >= BREACH_KEYS, breach
        aware(breach["at"])
    for escalation in status["escalations"]:
        assert set(escalation) >= ESCALATION_KEYS, escalation
        assert isinstance(escalation["rung"], int)
        aware(escalation["at"])
    for task in status["manual_tasks"]:
        assert set(task) >= MANUAL_TASK_KEYS, task
    assert set(status["consent"]) >= CONSENT_KEYS, status["consent"]


def write_intake(folder: Path, name: str, raw: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False) if name.endswith((".yaml", ".yml")) else json.dumps(raw))
    return path


@pytest.fixture(scope="module")
def fast_policy(tmp_path_factory) -> Path:
    """The demo policy with every duration and rung at 1 s: a case breaches and escalates within seconds.
    The policy travels with the case (its workflow input), so only the CLI that opens it needs to know."""
    text = resources.files("sinergi.policies").joinpath("demo.toml").read_text("utf-8")
    path = tmp_path_factory.mktemp("policy") / "e2e-fast.toml"
    path.write_text(re.sub(r'"\d+s"', '"1s"', text).replace('name = "demo"', 'name = "e2e-fast"'))
    return path


async def test_a_case_from_intake_to_closure_through_every_case_command(cli: Cli, home: Path):
    work = home / "work"
    as_json = write_intake(work, "intake.json", intake_dict())
    as_yaml = write_intake(work, "intake.yaml", intake_dict())
    yaml_id = f"E2E-{uuid.uuid4().hex[:10].upper()}"

    # Open: JSON with --json (SPEC shape), YAML with --id and the human output (the id alone on stdout).
    opened, opened_yaml = await gather(cli("case", "open", str(as_json), "--json"),
                                       cli("case", "open", str(as_yaml), "--id", yaml_id))
    body = ok(opened, as_json=True)
    assert set(body) >= {"case_id", "workflow_id"}
    case_id = body["case_id"]
    assert CASE_ID.match(case_id), case_id
    assert body["workflow_id"] == f"case-{case_id}"
    assert ok(opened_yaml).strip() == yaml_id
    assert "case status" in opened_yaml.stderr  # the next step, for people, on stderr

    status, status_text, why_text, refused, not_allowed, stranger = await gather(
        cli("case", "status", case_id, "--json"),
        cli("case", "status", case_id),
        cli("case", "why", case_id),
        cli("case", "event", case_id, "reintegration.completed"),
        cli("case", "event", case_id, "protection.shelter_admitted", "--data", '{"facility": "RPTC"}',
            "--as", "lpsk"),
        cli("case", "event", case_id, "protection.shelter_admitted", "--data", '{"facility": "RPTC"}',
            "--as", "uptd_ppa_jatim"))

    # status --json: the SPEC keys, and no personal data.
    s = ok(status, as_json=True)
    check_status_shape(s)
    assert (s["case_id"], s["stage"], s["closed"], s["province"]) == (case_id, "identification", False, "KALSEL")
    assert s["referrals"] and s["clocks"], s
    assert {k: s["consent"][k] for k in CONSENT_KEYS} == dict.fromkeys(CONSENT_KEYS, True)
    assert "Siti Contoh" not in status.stdout and "0000 0000" not in status.stdout

    # Human status: aligned tables, times in WITA, no colour on a pipe.
    text = ok(status_text)
    assert case_id in text and "identification" in text and "REFERRALS" in text and "CLOCKS" in text
    assert WITA.search(text)
    assert "regency Kabupaten Banjar (63.03)" in text  # kept by code, read by name (SPEC "Places")
    assert_aligned(text)

    # Human why: who it waits on, the next deadline with its rule and source, what is accepted now.
    text = ok(why_text)
    assert "Waiting on:" in text and "referral.acknowledged" in text
    first_due = min((c for c in s["clocks"] if c["state"] == "running"), key=lambda c: aware(c["due_at"]))
    assert f"Next deadline: {first_due['id']}, " in text and first_due["source"] in text and WITA.search(text)
    assert "Events accepted now:" in text and "identification.screening_completed" in text

    # Refused by the case: exit 1, the reason, and the events accepted now as the hint.
    assert_user_error(refused, 1, "reintegration.completed", "identification")
    hint = next(line for line in refused.stderr.splitlines() if line.startswith("hint:"))
    assert "accepted now" in hint and "identification.screening_completed" in hint
    # Refused by the agreement: LPSK's MoU does not let it report shelter admissions.
    assert_user_error(not_allowed, 1, "lpsk may not send protection.shelter_admitted", "protection.lpsk_*")
    # Refused like the gateway's 403: an office outside the case (JATIM, for a KALSEL case) cannot speak for it.
    assert_user_error(stranger, 1, "uptd_ppa_jatim is not part of case", "operator")

    # An event on behalf of the office that leads the case (it registered the intake: SPEC "Authority"),
    # whose agreement allows it; then the same event id again.
    assert "Lead office: bp3mi_kalsel" in text
    event_id = f"e2e-{uuid.uuid4().hex}"
    applied = ok(await cli("case", "event", case_id, "identification.screening_completed", "--data", SCREENED,
                           "--as", "bp3mi_kalsel", "--event-id", event_id, "--json"), as_json=True)
    assert set(applied) >= EVENT_KEYS
    assert applied == applied | {"case_id": case_id, "event_id": event_id, "stage": "protection", "duplicate": False}

    again, why_json, timeline_json, timeline_text = await gather(
        cli("case", "event", case_id, "identification.screening_completed", "--data", SCREENED,
            "--as", "bp3mi_kalsel", "--event-id", event_id, "--json"),
        cli("case", "why", case_id, "--json"),
        cli("case", "timeline", case_id, "--json"),
        cli("case", "timeline", case_id))
    assert ok(again, as_json=True) == applied | {"duplicate": True}  # applied once
    w = ok(why_json, as_json=True)
    assert w["case_id"] == case_id and w["stage"] == "protection"
    assert "protection.shelter_admitted" in w["accepted_events"]
    assert "identification.screening_completed" not in w["accepted_events"]
    entries = ok(timeline_json, as_json=True)["entries"]
    assert [e for e in entries if "bp3mi_kalsel" in e["text"] and e["kind"] == "event"], entries  # who sent it
    assert [aware(e["at"]) for e in entries] == sorted(aware(e["at"]) for e in entries)  # in time order
    text = ok(timeline_text)
    assert "case opened" in text and "identification.screening_completed" in text and WITA.search(text)
    assert_aligned(text)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), "an ISO time left in UTC in the human timeline"

    # Close by hand; the case then refuses events (exit 1) and says it is closed.
    closed = ok(await cli("case", "close", case_id, "--reason", "victim moved abroad"))
    assert case_id in closed and "closed" in closed
    final, late = await gather(cli("case", "status", case_id, "--json"),
                               cli("case", "event", case_id, "protection.shelter_admitted", "--data",
                                   '{"facility": "RPTC"}'))
    s = ok(final, as_json=True)
    check_status_shape(s)
    assert (s["closed"], s["stage"], s["closure_reason"]) == (True, "closed", "victim moved abroad")
    assert_user_error(late, 1, "protection.shelter_admitted")


async def test_case_list_filters_by_stage_province_agency_escalation_and_open_or_closed(
        cli: Cli, home: Path, fast_policy: Path):
    work = home / "work"
    # One KALSEL case moved to protection; one in a province of its own, on a policy that breaches and
    # escalates within seconds, with no office covering it (failed referrals, manual tasks), then closed. A
    # province must exist (SPEC "Places"): Papua Barat Daya, which no office of the test agreement covers and no
    # other test opens cases in.
    province = "PAPUABARATDAYA"
    kalsel = write_intake(work, "kalsel.json", intake_dict())
    lonely = write_intake(work, "lonely.json", intake_dict(province=province, regency=None,
                                                            situation={"location_country": "ID"}))
    a, b = await gather(cli("case", "open", str(kalsel), "--json"),
                        cli("case", "open", str(lonely), "--json", env={"SINERGI_POLICY_FILE": str(fast_policy)}))
    kalsel_id, lonely_id = ok(a, as_json=True)["case_id"], ok(b, as_json=True)["case_id"]
    ok(await cli("case", "event", kalsel_id, "identification.screening_completed", "--data", SCREENED))

    async def escalated() -> dict[str, Any]:
        s = ok(await cli("case", "status", lonely_id, "--json"), as_json=True)
        assert s["breaches"] and s["escalations"] and s["manual_tasks"], s
        return s

    s = await eventually(escalated)
    check_status_shape(s)  # every list non-empty here: the item keys are checked too
    assert any(r["status"] == "failed" for r in s["referrals"])
    why = ok(await cli("case", "why", lonely_id))
    assert "Last delivery error:" in why and "Manual tasks for you:" in why and "MISSED" in why
    ok(await cli("case", "close", lonely_id, "--reason", "e2e"))

    # Queries are scoped by province: the session's server holds other tests' cases, and a listing is capped.
    # The lonely case is alone in its province; the KALSEL one is the newest running case, so listed first.
    async def filtered() -> None:
        mine, all_filters, none_open, kalsel_open, kalsel_escalated, table = await gather(
            cli("case", "list", "--province", province, "--json"),
            cli("case", "list", "--province", province, "--stage", "closed", "--escalated", "--closed",
                "--agency", "bp3mi", "--json"),
            cli("case", "list", "--province", province, "--open", "--json"),
            cli("case", "list", "--province", "kalsel", "--stage", "protection", "--agency", "bp3mi", "--open",
                "--json"),
            cli("case", "list", "--province", "KALSEL", "--escalated", "--json"),
            cli("case", "list", "--province", "KALSEL", "--stage", "protection"))
        rows = ok(mine, as_json=True)
        assert [r["case_id"] for r in rows] == [lonely_id], rows
        assert set(rows[0]) >= LIST_KEYS
        assert (rows[0]["province"], rows[0]["stage"], rows[0]["escalated"]) == (province, "closed", True)
        aware(rows[0]["opened_at"])
        ids = lambda r: [row["case_id"] for row in ok(r, as_json=True)]  # noqa: E731
        assert ids(all_filters) == [lonely_id]
        assert ids(none_open) == []
        assert kalsel_id in ids(kalsel_open)
        assert kalsel_id not in ids(kalsel_escalated)
        text = ok(table)
        assert kalsel_id in text and WITA.search(text) and text.splitlines()[0].startswith("CASE")
        assert_aligned(text)

    await eventually(filtered)


async def test_bulk_intake_reports_bad_lines_and_a_second_run_opens_nothing_twice(cli: Cli, home: Path):
    work = home / "work"
    bad_dob = intake_dict(person={"date_of_birth": "14-03-2001"})
    lines = [json.dumps(intake_dict()), '{"province": "KALSEL",', json.dumps(intake_dict()), json.dumps(bad_dob),
             "", "[1, 2]", json.dumps(intake_dict())]
    rescue = work / "rescue.jsonl"
    rescue.write_text("\n".join(lines) + "\n")
    hopeless = work / "hopeless.jsonl"
    hopeless.write_text('{"province": "KALSEL"}\nnot json\n')

    first, nothing = await gather(cli("case", "open", "--bulk", str(rescue)),
                                  cli("case", "open", "--bulk", str(hopeless), "--json"))
    text = ok(first)
    assert "opened 3 cases, 0 already open, 3 lines rejected" in text, text
    opened = sorted(re.findall(r"opened\s+(KALSEL-2026-\w{8})", text))
    assert len(opened) == 3 and all(CASE_ID.match(c) for c in opened), text
    assert re.search(r"line 2: not valid JSON", text), text
    assert re.search(r"line 4: person\.date_of_birth", text), text
    assert re.search(r"line 6: expected a JSON object", text), text
    assert "opening cases" in first.stderr  # the progress bar, on stderr

    # Nothing could be opened: exit 2, and the JSON summary still names each line.
    assert nothing.code == 2 and "Traceback" not in nothing.stderr, str(nothing)
    # With --json the error is JSON on stdout: the summary's keys and the error's, in one document.
    assert [r["line"] for r in nothing.json()["rejected"]] == [1, 2]
    assert nothing.json()["error"] == "bulk_rejected" and nothing.json()["message"] == "no line could be opened"

    second = ok(await cli("case", "open", "--bulk", str(rescue), "--json"), as_json=True)
    assert {"opened", "rejected"} <= set(second)
    assert second["opened"] == [] and sorted(second["existing"]) == opened
    assert [r["line"] for r in second["rejected"]] == [2, 4, 6]
    assert all({"line", "error"} <= set(r) and r["error"] for r in second["rejected"])
    assert "person.date_of_birth" in second["rejected"][1]["error"]


async def test_policy_chooses_the_clocks_a_new_case_opens_under(cli: Cli, home: Path):
    """`case open --policy demo`: the demo policy's clocks (seconds for days) over `[policy] file`'s default; an
    unknown policy is refused before anything opens."""
    intake = write_intake(home / "work", "intake.json", intake_dict())
    default, demo, unknown = await gather(cli("case", "open", str(intake), "--json"),
                                          cli("case", "open", str(intake), "--policy", "demo", "--json"),
                                          cli("case", "open", str(intake), "--policy", "no-such-policy", "--json"))
    soonest = {}
    for name, opened in (("default", default), ("demo", demo)):
        case_id = ok(opened, as_json=True)["case_id"]
        status = ok(await cli("case", "status", case_id, "--json"), as_json=True)
        due = [datetime.fromisoformat(c["due_at"]) for c in status["clocks"] if c.get("due_at")]
        soonest[name] = min(due) - datetime.fromisoformat(status["opened_at"]) if due else None
    assert soonest["demo"] is not None and soonest["demo"].total_seconds() < 3600, soonest
    assert soonest["default"] is not None and soonest["default"].total_seconds() >= 3600, soonest
    assert unknown.code == 2 and "no-such-policy" in unknown.stdout, unknown
