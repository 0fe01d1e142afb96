"""What a sandbox agency does with a referral, by service (sinergi.domain.routing.SERVICES).

Every storyline is the referral handshake — acknowledged, then accepted (or declined) — then the
service's own events, then `referral.completed` (unless the service's outcome completes it, as a
screening's does). Events that close the case come after the referral
is completed, since a closed case accepts nothing more. Pure: steps are data; the player posts them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sinergi.sandbox.memory import CaseFacts

Data = dict[str, Any] | Callable[[CaseFacts], dict[str, Any]]
PORT_OF_ENTRY = "Pelabuhan Trisakti, Banjarmasin"
# The regency of the sandbox's port of entry: where its offices bring home a victim whose home regency they
# were not told (the agreement did not share `person.home_regency`, or the intake had none).
RECEPTION_REGENCY = "Kota Banjarmasin"


@dataclass(frozen=True)
class Step:
    """One event an agency sends. `ready` is waited for (bounded); `only_if` skips the step when false."""

    type: str
    data: Data = field(default_factory=dict)
    actor_kind: str | None = None  # another office of the case sends it (e.g. UPTD PPA's best interest)
    ready: Callable[[CaseFacts], bool] | None = None
    only_if: Callable[[CaseFacts], bool] | None = None

    def payload(self, facts: CaseFacts) -> dict[str, Any]:
        return self.data(facts) if callable(self.data) else dict(self.data)


Plot = tuple[list[Step], list[Step]]  # (service events, events that close the case)


def _done(*event_types: str) -> Callable[[CaseFacts], bool]:
    return lambda f: all(t in f.done for t in event_types)


def _screening(rid: str, followups: int) -> Plot:
    return [Step("identification.screening_completed",
                 {"outcome": "presumed_victim", "indicators": ["deception", "withholding_of_documents"]})], []


def _police_report(rid: str, followups: int) -> Plot:
    return [Step("identification.police_report_filed", {"report_number": f"LP/B/{rid}/SPKT"}),
            Step("protection.police_protection_granted", only_if=lambda f: f.sexual_exploitation)], []


def _shelter(rid: str, followups: int) -> Plot:
    def request(f: CaseFacts) -> dict[str, Any]:
        return {"services": ["health", "social", *(["repatriation"] if f.abroad else [])],
                "filed_by": "social_worker"}

    # An Art. 51 request needs the police report first: wait for the police's storyline (and the
    # player retries on 409 should the report come from elsewhere).
    return [Step("protection.shelter_admitted", {"facility": "sandbox shelter"}),
            Step("protection.safe_placement_confirmed"),
            Step("rehabilitation.request_filed", request, ready=_done("identification.police_report_filed"))], []


def _rehabilitation(service: str) -> Callable[[str, int], Plot]:
    def plot(rid: str, followups: int) -> Plot:
        def completed(f: CaseFacts) -> dict[str, Any]:
            return {"needs_repatriation": f.abroad, **({"return_to": f.home_regency} if f.home_regency else {})}

        # The last of the health and social services to complete reports the rehabilitation complete.
        return [Step("rehabilitation.service_started", {"service": service}),
                Step("rehabilitation.service_completed", {"service": service}),
                Step("rehabilitation.completed", completed,
                     only_if=lambda f: f.rehabilitation_done() and f.claim("rehabilitation.completed"))], []
    return plot


def _service_started(service: str) -> Callable[[str, int], Plot]:
    return lambda rid, followups: ([Step("rehabilitation.service_started", {"service": service})], [])


def _travel_document_and_return(rid: str, followups: int) -> Plot:
    return [Step("repatriation.risk_assessed", {"safe": True}),
            Step("repatriation.best_interest_determined",
                 {"caregiver_confirmed": True, "return_in_best_interest": True},
                 actor_kind="uptd_ppa", only_if=lambda f: f.child),
            Step("repatriation.travel_document_issued"),
            Step("repatriation.departed")], []


def _port_reception(rid: str, followups: int) -> Plot:
    return [Step("repatriation.arrived_port_of_entry", {"port": PORT_OF_ENTRY},
                 ready=_done("repatriation.departed"))], []


def _home(f: CaseFacts) -> dict[str, Any]:
    # The case takes this as its regency (search attribute, `case list`): a real regency, never a placeholder.
    # An office not told the victim's home regency reports where it brought the victim, the port's city.
    return {"regency": f.home_regency or RECEPTION_REGENCY}


def _onward_travel(rid: str, followups: int) -> Plot:
    # Home after the port of entry, when the case was received at one.
    return [Step("repatriation.arrived_home", _home, ready=lambda f: "repatriation.departed" in f.done and (
        "port_reception" not in f.services or "repatriation.arrived_port_of_entry" in f.done))], []


def _domestic_return(rid: str, followups: int) -> Plot:
    return [Step("repatriation.risk_assessed", {"safe": True}), Step("repatriation.departed"),
            Step("repatriation.arrived_home", _home)], []


def _handover_to_mission(rid: str, followups: int) -> Plot:
    return [Step("repatriation.risk_assessed", {"safe": True})], [
        Step("repatriation.handed_over", lambda f: {"mission": f"mission of {f.nationality or 'the home country'}"})]


def _family_reintegration(rid: str, followups: int) -> Plot:
    visits = [Step("reintegration.followup_completed", {"wellbeing": "stable"}) for _ in range(followups)]
    # Close only once unpaid rights are settled, when the case was referred for them.
    return [Step("reintegration.plan_agreed"), *visits], [
        Step("reintegration.completed", ready=lambda f: "rights_and_empowerment" not in f.services
             or "reintegration.rights_settled" in f.done)]


PLOTS: dict[str, Callable[[str, int], Plot]] = {
    "screening": _screening,
    "police_report": _police_report,
    "shelter": _shelter,
    "health": _rehabilitation("health"),
    "social": _rehabilitation("social"),
    "repatriation": _service_started("repatriation"),
    "reintegration": _service_started("reintegration"),
    "travel_document_and_return": _travel_document_and_return,
    "port_reception": _port_reception,
    "onward_travel": _onward_travel,
    "domestic_return": _domestic_return,
    "handover_to_mission": _handover_to_mission,
    "family_reintegration": _family_reintegration,
    "rights_and_empowerment": lambda rid, n: ([Step("reintegration.rights_settled")], []),
    "urgent_first_aid": lambda rid, n: ([Step("rehabilitation.first_aid_provided")], []),
}


COMPLETED_BY_OUTCOME = frozenset({"screening"})


def storyline(service: str, referral_id: str, *, declined: str | None = None, followups: int = 4) -> list[Step]:
    """The events an office sends for a referral; services without a plot get the handshake only."""
    ref = {"referral_id": referral_id}
    steps = [Step("referral.acknowledged", ref)]
    if declined:
        return [*steps, Step("referral.declined", {**ref, "reason": declined, "reason_code": "no_capacity"})]
    events, closing = PLOTS.get(service, lambda rid, n: ([], []))(referral_id, followups)
    # A screening's outcome completes its referral in the case itself (rules v2): no separate completion.
    completion = [] if service in COMPLETED_BY_OUTCOME else [Step("referral.completed", ref)]
    # What closes the case waits (bounded) until the other offices' referrals have ended: a closed case
    # cancels what is still open, and an office answering by e-mail answers later than one by webhook.
    closing = [replace(step, ready=_and(step.ready, lambda f: f.others_settled(referral_id))) for step in closing]
    return [*steps, Step("referral.accepted", ref), *events, *completion, *closing]


def _and(first: Callable[[CaseFacts], bool] | None,
         second: Callable[[CaseFacts], bool]) -> Callable[[CaseFacts], bool]:
    return second if first is None else (lambda f: first(f) and second(f))
