"""The sandbox agencies' storylines against the agreement: every office may send what its part of the
case makes it send, and every event it sends is valid."""

from __future__ import annotations

import itertools

import pytest

from sinergi.agencies import load_registry
from sinergi.domain.case import Facts
from sinergi.domain.events import parse_event
from sinergi.domain.routing import SERVICES, kinds_for
from sinergi.sandbox.memory import CaseFacts
from sinergi.sandbox.storylines import PLOTS, storyline

REGISTRY = load_registry("sandbox")
HANDSHAKE_ONLY = {"protection_abroad", "child_protection", "foreign_victim", "legal_aid"}
# Agencies that meet victims first and screen them (DOMAIN §2-3): the intake's source.
SCREENERS = ["bp3mi", "uptd_ppa", "polri", "dinsos", "imigrasi", "kbri", "ngo"]
ALL_FACTS = [Facts(child=c, female=f, abroad=a, foreign_national=n, pmi=True)
             for c, f, a, n in itertools.product([False, True], repeat=4)]


def _routes() -> list[tuple[str, str, bool]]:
    """(service, kind, abroad) for every kind routing may ever send a service to."""
    out = {(svc, kind, facts.abroad) for svc in SERVICES for facts in ALL_FACTS for kind in kinds_for(svc, facts)}
    return sorted(out | {("screening", kind, False) for kind in SCREENERS})


def test_every_service_has_a_storyline_beyond_the_handshake_unless_it_needs_none() -> None:
    assert set(SERVICES) - HANDSHAKE_ONLY <= set(PLOTS)
    assert "screening" in PLOTS


@pytest.mark.parametrize(("service", "kind", "abroad"), _routes())
@pytest.mark.parametrize(("province", "regency"), [("KALSEL", "Kabupaten Banjar"), ("KALSEL", None), ("JATIM", None)])
def test_each_office_may_send_what_its_storyline_sends(service: str, kind: str, abroad: bool, province: str,
                                                       regency: str | None) -> None:
    office = REGISTRY.route(kind, province, regency, country="MY" if abroad else None)
    if office is None:
        pytest.skip(f"no {kind} office in {province}")
    steps = storyline(service, "R1") + storyline(service, "R1", declined="full")
    for step in steps:
        actor = office if step.actor_kind is None else REGISTRY.route(step.actor_kind, province, regency)
        assert actor is not None and actor.may_send_type(step.type), f"{actor.id} may not send {step.type}"


@pytest.mark.parametrize("service", sorted(PLOTS))
@pytest.mark.parametrize(("child", "abroad"), [(False, False), (True, True)])
def test_every_event_a_storyline_sends_is_valid(service: str, child: bool, abroad: bool) -> None:
    facts = CaseFacts(case_id="KALSEL-2026-TEST", child=child, abroad=abroad, home_regency="Kabupaten Banjar",
                      nationality="MY", sexual_exploitation=True)
    for index, step in enumerate(storyline(service, "KALSEL-2026-TEST-R001", followups=2)):
        parse_event({"event_id": f"sbx.KALSEL-2026-TEST-R001.{index:02d}", "case_id": facts.case_id,
                     "type": step.type, "occurred_at": "2026-11-27T08:00:00+08:00", "data": step.payload(facts)})


def test_a_declined_referral_ends_after_the_decline() -> None:
    assert [s.type for s in storyline("shelter", "R1", declined="no beds")] == [
        "referral.acknowledged", "referral.declined"]


def test_the_case_closing_event_comes_after_the_referral_is_completed() -> None:
    types = [s.type for s in storyline("family_reintegration", "R1", followups=4)]
    assert types[-2:] == ["referral.completed", "reintegration.completed"]
    assert types.count("reintegration.followup_completed") == 4


def test_only_the_last_rehabilitation_service_to_complete_reports_rehabilitation_completed() -> None:
    facts = CaseFacts(case_id="C", requested=["health", "social", "repatriation"])
    last = next(s for s in storyline("health", "R1") if s.type == "rehabilitation.completed")
    facts.done.add("rehabilitation.service_completed:health")
    assert not last.only_if(facts)
    facts.done.add("rehabilitation.service_completed:social")
    assert last.only_if(facts) and not last.only_if(facts)  # claimed once


@pytest.mark.parametrize("home_regency", ["Kabupaten Tapin", None])
@pytest.mark.parametrize("service", ["domestic_return", "onward_travel"])
def test_the_sandbox_reports_a_real_regency_on_arrival_never_a_placeholder(service: str, home_regency: str | None):
    # The case keeps it as its regency (`case list`, the CaseRegency search attribute): issue 23, item 7.
    from sinergi.domain import places

    facts = CaseFacts(case_id="KALSEL-2026-TEST", home_regency=home_regency)
    [arrival] = [s for s in storyline(service, "R1") if s.type == "repatriation.arrived_home"]
    regency = arrival.payload(facts)["regency"]
    assert regency == (home_regency or "Kota Banjarmasin")
    assert places.regency(regency, "KALSEL").name == regency
