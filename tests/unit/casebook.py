"""Plain constructors for domain tests: open a case, send it events, deliver its referrals.

No Temporal: this drives `sinergi.domain.lifecycle` the way the workflow does (check, then apply, then
carry out the effects), with `now` chosen by the test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sinergi.agencies import load_registry
from sinergi.domain import clocks, delivery, lifecycle
from sinergi.domain.case import CaseInput, CaseState
from sinergi.domain.effects import Deliver, Effect, SendNotice, StartClock
from sinergi.domain.intake import Intake
from sinergi.domain.sharing import payload_for
from sinergi.policies import load_policy
from sinergi.testing.cases import event, intake

CASE_ID = "KALSEL-2026-7Q2M9XKD"
T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)  # a Friday; 08:00 WITA
# Days off resolved for the years around T0, not around the day the suite runs.
POLICY = load_policy("default", today=T0.date())
REGISTRY = load_registry("sandbox")

# Intake overrides for the usual cases. The default sample is an adult Indonesian PMI woman in Malaysia.
DOMESTIC = {"situation": {"location_country": "ID"}}
NO_CONSENT = {"consent": {"services": False, "data_sharing": False, "legal": False, "recorded_by": "officer-17"}}
CHILD_DOB = "2012-05-01"


class Case:
    """One case under test: its state, the intake it opened from, and a clock the test moves."""

    def __init__(self, at: datetime = T0, **overrides: Any) -> None:
        self.intake: Intake = intake(**overrides)
        self.now = at
        self.state, self.opening_effects = lifecycle.open_case(
            CaseInput(case_id=CASE_ID, intake=self.intake, policy=POLICY), self.now)
        self.effects: list[Effect] = list(self.opening_effects)

    @property
    def s(self) -> CaseState:
        return self.state

    def later(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def send(self, type_: str, source: str | None = None, **data: Any) -> list[Effect]:
        """Check and apply one event, as the workflow's update does; raises EventRefused when refused."""
        e = event(CASE_ID, type_, source=source, **data)
        lifecycle.check(self.state, e)
        self.effects = lifecycle.apply(self.state, POLICY, e, self.now)
        return self.effects

    def refused(self, type_: str, source: str | None = None, **data: Any) -> lifecycle.EventRefused:
        before = self.state.model_dump_json()
        try:
            lifecycle.check(self.state, event(CASE_ID, type_, source=source, **data))
        except lifecycle.EventRefused as refusal:
            assert self.state.model_dump_json() == before, "a refused event must change nothing"
            return refusal
        raise AssertionError(f"{type_} was accepted")

    def deliver(self, effects: list[Effect] | None = None) -> list[str]:
        """Route and deliver every Deliver effect through the sandbox registry; return the offices reached."""
        reached = []
        for effect in self.effects if effects is None else effects:
            if not isinstance(effect, Deliver):
                continue
            referral = self.state.referrals[effect.referral_id]
            office = REGISTRY.route(referral.kind, self.state.province, self.state.regency,
                                    country=self.intake.situation.location_country if self.state.facts.abroad
                                    else None)
            assert office is not None, f"no {referral.kind} office for the case"
            delivery.routed(self.state, effect.referral_id, office.id)
            _, fields = payload_for(self.intake, office)
            receipt = delivery.DeliveryReceipt(office=office.id, fields=fields, delivered_at=self.now)
            delivery.delivered(self.state, POLICY, effect.referral_id, receipt, self.now)
            reached.append(office.id)
        return reached

    def referral(self, service: str, *, status: str | None = None):
        """The latest referral for `service` (optionally in `status`)."""
        found = [r for r in self.state.referrals.values()
                 if r.service == service and (status is None or r.status == status)]
        assert found, f"no {service} referral ({status or 'any status'}) in {self.services()}"
        return found[-1]

    def services(self) -> list[tuple[str, str, str]]:
        return [(r.service, r.kind, r.status) for r in self.state.referrals.values()]

    def clock(self, key: str):
        return self.state.clocks[key]

    def clocks_of(self, clock_id: str):
        return [c for c in self.state.clocks.values() if c.clock_id == clock_id]

    def expire(self, key: str) -> list[Effect]:
        """The clock's timer fires at its due time."""
        self.now = self.state.clocks[key].due_at
        return clocks.expired(self.state, POLICY, key, self.now)

    # Walking the lifecycle ------------------------------------------------------------------------

    def to_protection(self) -> Case:
        self.send("identification.screening_completed", outcome="presumed_victim")
        self.deliver()
        return self

    def to_rehabilitation(self) -> Case:
        self.to_protection()
        self.later(hours=2)
        self.send("protection.shelter_admitted", facility="RPTC Banjarbaru")
        self.send("protection.safe_placement_confirmed")
        self.deliver()
        return self

    def to_repatriation(self, **completed: Any) -> Case:
        self.to_rehabilitation()
        self.send("rehabilitation.completed", **{"needs_repatriation": True, **completed})
        self.deliver()
        return self

    def to_reintegration(self) -> Case:
        self.to_rehabilitation()
        self.send("rehabilitation.completed", needs_repatriation=False)
        self.deliver()
        return self


def started(effects: list[Effect]) -> list[str]:
    return [e.key for e in effects if isinstance(e, StartClock)]


def delivered_ids(effects: list[Effect]) -> list[str]:
    return [e.referral_id for e in effects if isinstance(e, Deliver)]


def notices(effects: list[Effect], purpose: str | None = None):
    return [e.notice for e in effects if isinstance(e, SendNotice) and purpose in (None, e.notice.purpose)]
