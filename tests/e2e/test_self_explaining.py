"""Issue 23 as an operator meets it, against the dev server and a real worker: a case id typed in lower case or
copied from the Temporal UI is understood; `case why` names the data each event accepted now requires; and a
closed case gives one answer for "accepted now" — `case why`, `case status` and a refused `case event` agree."""

from __future__ import annotations

import asyncio
import json

from cli_kit import ANSI, Cli, assert_user_error, intake_dict


async def test_a_case_explains_what_it_accepts_and_a_closed_case_accepts_nothing_everywhere(cli: Cli, home):
    intake = home / "work" / "intake.json"
    intake.write_text(json.dumps(intake_dict()))
    opened = await cli("case", "open", str(intake), "--json")
    assert opened.code == 0, str(opened)
    case_id = opened.json()["case_id"]

    lower, from_ui, as_json = await asyncio.gather(
        cli("case", "why", case_id.lower()), cli("case", "why", f"case-{case_id}"),
        cli("case", "why", case_id, "--json"))
    for result in (lower, from_ui):
        assert result.code == 0 and not ANSI.search(result.stdout), str(result)
        assert f"{case_id} is in identification" in result.stdout, str(result)
        # Each event accepted now with the data it requires, allowed values named.
        assert "outcome (presumed_victim | not_victim | needs_more_info)" in result.stdout, str(result)
        assert "sinergi events TYPE" in result.stdout
    accepted = {row["type"]: row["required"] for row in as_json.json()["accepted_now"]}
    assert set(accepted) == set(as_json.json()["accepted_events"])
    assert [f["name"] for f in accepted["consent.recorded"]] == ["scope"]
    assert accepted["consent.recorded"][0]["allowed"] == ["services", "data_sharing", "legal"]

    closed = await cli("case", "close", f"case-{case_id}", "--reason", "e2e: nothing left to do")
    assert closed.code == 0, str(closed)
    refused, why, status = await asyncio.gather(
        cli("case", "event", case_id.lower(), "legal.investigation_opened", "--json"),
        cli("case", "why", case_id), cli("case", "status", case_id, "--json"))
    body = refused.json()
    assert refused.code == 1 and body["error"] == "event_refused", str(refused)
    assert body["details"]["accepted"] == [] and body["hint"] == "event types accepted now: none"
    assert why.code == 0 and "Events accepted now: none" in why.stdout, str(why)
    assert f"{case_id} is closed" in why.stdout and "(closed)" not in why.stdout, str(why)
    assert status.json()["accepted_events"] == []
    # Without --json, the same refusal as text on stderr.
    text = await cli("case", "event", case_id, "case.data_breach_discovered")
    assert_user_error(text, 1, "refused", "hint: event types accepted now: none")
