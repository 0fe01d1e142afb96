"""`sinergi events` and what `case why` and a refused `--data` say about events (issue 23, item 2): derived from
the event models, the authority rules, the agreement registry and the policy, so a new event type, field or
allowed value shows without anyone restating it — and a new event type without a description fails here."""

from __future__ import annotations

import json
from typing import get_args

import click
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from sinergi.agencies import load_registry
from sinergi.cli import cli
from sinergi.commands import event_catalog as catalog
from sinergi.commands.views import why_json, why_text
from sinergi.domain import authority
from sinergi.domain.events import EVENT_CLASSES, INTERNAL_EVENT_TYPES, ConsentScope, parse_event
from sinergi.domain.views import CaseWhy
from sinergi.policies import load_policy

REGISTRY = load_registry("sandbox")
PUBLIC = [t for t in EVENT_CLASSES if t not in INTERNAL_EVENT_TYPES]


def data_model(event_type: str):
    return EVENT_CLASSES[event_type].model_fields["data"].annotation


def events(*args: str, tmp_path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["events", *args], prog_name="sinergi",
                                env={"XDG_CONFIG_HOME": str(tmp_path), "SINERGI_CONFIG": "", "SINERGI_PROFILE": ""})
    return result.exit_code, result.stdout


@pytest.mark.parametrize("event_type", PUBLIC)
def test_every_event_type_says_what_it_does_and_what_each_field_means(event_type: str) -> None:
    # A new event type (or field) without words for people fails here: `sinergi events` would show it bare.
    assert EVENT_CLASSES[event_type].effect.strip(), f"{event_type}: no `effect`"
    for name, field in data_model(event_type).model_fields.items():
        assert field.description, f"{event_type}: data.{name} has no description"


def test_the_listing_has_every_public_type_with_the_fields_of_its_model(tmp_path) -> None:
    code, out = events("--json", tmp_path=tmp_path)
    assert code == 0
    listed = json.loads(out)
    assert [e["type"] for e in listed] == PUBLIC  # the vocabulary's order; case.opened is sinergi's own
    for entry in listed:
        fields = data_model(entry["type"]).model_fields
        assert [f["name"] for f in entry["fields"]] == list(fields)
        assert {f["name"] for f in entry["fields"] if f["required"]} == {n for n, f in fields.items()
                                                                         if f.is_required()}
        assert entry["effect"] == EVENT_CLASSES[entry["type"]].effect


def test_allowed_values_are_the_models_literals() -> None:
    scope = {f.name: f for f in catalog.fields_of("consent.recorded")}["scope"]
    assert scope.allowed == list(get_args(ConsentScope)) and scope.required
    services = {f.name: f for f in catalog.fields_of("rehabilitation.request_filed")}["services"]
    assert services.type == "array of string" and services.allowed == ["health", "social", "repatriation",
                                                                        "reintegration"]
    agency = {f.name: f for f in catalog.fields_of("consent.recorded")}["agency"]
    assert not agency.required and agency.type == "string" and agency.allowed is None


@pytest.mark.parametrize("event_type", PUBLIC)
def test_who_may_send_follows_the_authority_rules_and_the_agreements(event_type: str) -> None:
    senders = catalog.senders_of(event_type, REGISTRY.offices.values())
    assert senders.operators
    assert senders.offices == sorted(o.id for o in REGISTRY.offices.values() if o.may_send_type(event_type))
    expected = ("referral" if event_type.startswith("referral.") else "closing" if event_type in authority.CLOSERS
                else "decision" if event_type in authority.DECISIONS else "agreement")
    assert senders.rule == expected


def test_the_sender_sentences_name_the_lead_office_and_the_serving_office() -> None:
    offices = REGISTRY.offices.values()
    assert "lead office" in catalog.senders_of("consent.withdrawn", offices).who
    assert "office asked to screen" in catalog.senders_of("identification.screening_completed", offices).who
    assert "family_reintegration" in catalog.senders_of("reintegration.completed", offices).who
    assert catalog.senders_of("case.opened", offices).rule == "internal"


def test_the_clocks_an_event_starts_and_stops_come_from_the_policy() -> None:
    policy = load_policy("default")
    doc = catalog.describe("protection.lpsk_application_filed", REGISTRY.offices.values(), policy)
    assert {c.clock for c in doc.starts} == {"T3", "T4"} and doc.stops == []
    screening = catalog.describe("identification.screening_completed", REGISTRY.offices.values(), policy)
    assert ("T17", "presumed_victim") in {(c.clock, c.when) for c in screening.starts}


def test_one_type_is_shown_in_full_with_an_example_that_is_valid(tmp_path) -> None:
    code, out = events("rehabilitation.request_filed", tmp_path=tmp_path)
    assert code == 0
    assert "filed_by" in out and "one of: victim | family | companion | police | social_worker" in out
    assert "starts T1" in out and "offices whose agreement allows it:" in out
    example = out.split("--data '", 1)[1].split("'", 1)[0]
    parse_event({"event_id": "e1", "case_id": "KALSEL-2026-AAAAAAAA", "type": "rehabilitation.request_filed",
                 "occurred_at": "2026-11-27T08:00:00+08:00", "data": json.loads(example)})


def test_a_family_is_chosen_by_name_or_glob_and_an_unknown_type_is_refused(tmp_path) -> None:
    referral = [t for t in PUBLIC if t.startswith("referral.")]
    for pattern in ("referral", "referral.*"):
        code, out = events(pattern, "--json", tmp_path=tmp_path)
        assert code == 0 and [e["type"] for e in json.loads(out)] == referral
    code, out = events("consent.recordd", "--json", tmp_path=tmp_path)
    body = json.loads(out)
    assert code == 2 and body["error"] == "unknown_event_type" and "consent.recorded" in body["details"]["known"]


def test_a_refused_field_names_what_it_takes() -> None:
    def refused(event_type: str, data: dict) -> list[dict]:
        with pytest.raises(ValidationError) as exc:
            parse_event({"event_id": "e1", "case_id": "KALSEL-2026-AAAAAAAA", "type": event_type,
                         "occurred_at": "2026-11-27T08:00:00+08:00", "data": data})
        return catalog.field_errors(event_type, exc.value)

    [missing] = refused("consent.recorded", {})
    assert missing["field"] == "data.scope" and missing["allowed"] == ["services", "data_sharing", "legal"]
    [extra] = refused("protection.shelter_admitted", {"facility": "RPTC", "beds": 2})
    assert extra["field"] == "data.beds" and extra["expected"] == ["facility"]
    lines = catalog.field_error_lines([missing, extra])
    assert lines == ["data.scope: Field required; allowed: services | data_sharing | legal",
                     "data.beds: Extra inputs are not permitted (got 2); this event takes: facility"]


def why(**changes) -> CaseWhy:
    base = {"case_id": "KALSEL-2026-7Q2M9XKD", "stage": "identification", "closed": False, "waiting_on": [],
            "next_deadline": None, "last_error": None, "open_manual_tasks": [],
            "accepted_events": ["identification.screening_completed", "case.contact_lost"]}
    return CaseWhy.model_validate({**base, **changes})


def test_why_lists_each_event_accepted_now_with_the_data_it_requires() -> None:
    text = click.unstyle(why_text(why(), "KALSEL"))
    assert "KALSEL-2026-7Q2M9XKD is in identification" in text
    assert "identification.screening_completed  outcome (presumed_victim | not_victim | needs_more_info)" in text
    assert "case.contact_lost                   -" in text
    required = {row["type"]: row["required"] for row in why_json(why())["accepted_now"]}
    assert [f["name"] for f in required["identification.screening_completed"]] == ["outcome"]
    assert required["case.contact_lost"] == []


def test_why_of_a_closed_case_says_it_is_closed_once() -> None:
    text = click.unstyle(why_text(why(stage="closed", closed=True, accepted_events=[]), "KALSEL"))
    assert "KALSEL-2026-7Q2M9XKD is closed" in text and "(closed)" not in text and "is in" not in text
    assert "Events accepted now: none" in text
