"""rehabilitation.*: the Art. 51 request for services (T1), urgent first aid (T2), each service started and
completed, and the end of rehabilitation, which leads to repatriation, a domestic return or reintegration.

Each event's guard (is it accepted now?) and handler (what it changes) stand together, registered with
`@handles`; `sinergi.domain.lifecycle.dispatch` calls them.
"""

from __future__ import annotations

from datetime import datetime

from sinergi.domain.case import CaseState, Stage
from sinergi.domain.effects import Effect
from sinergi.domain.events import (
    FirstAidProvided,
    FirstAidRequested,
    RehabilitationCompleted,
    RequestFiled,
    ServiceCompleted,
    ServiceStarted,
)
from sinergi.domain.lifecycle.helpers import (
    ASSISTANCE_STAGES,
    all_of,
    enter,
    enter_reintegration,
    handles,
    in_stage,
    is_open,
    need,
    refer,
)
from sinergi.domain.policy import Policy

# rule: T1 — the Art. 51 request needs a police report first (UU 21/2007 Art. 51)
_REPORTED = need(lambda s: s.police_report,
                 "an Art. 51 request needs a police report first (identification.police_report_filed)")


def _requested_again(s: CaseState, e: RequestFiled) -> str | None:
    again = [svc for svc in e.data.services if svc in s.services]
    return f"already requested: {', '.join(again)}" if again else None


@handles(RequestFiled, all_of(in_stage(*ASSISTANCE_STAGES), _REPORTED), _requested_again)
def request_filed(s: CaseState, p: Policy, e: RequestFiled, now: datetime) -> list[Effect]:
    # rule: T1 — one clock per requested service
    effects: list[Effect] = []
    for service in e.data.services:
        s.services[service] = "requested"
        effects += refer(s, service, now)
    return effects


@handles(FirstAidRequested, all_of(is_open, need(lambda s: not s.first_aid_pending, "first aid is already requested")))
def first_aid_requested(s: CaseState, p: Policy, e: FirstAidRequested, now: datetime) -> list[Effect]:
    # rule: T2
    s.first_aid_pending = True
    return refer(s, "urgent_first_aid", now)


@handles(FirstAidProvided, all_of(is_open, need(lambda s: s.first_aid_pending, "no first aid was requested")))
def first_aid_provided(s: CaseState, p: Policy, e: FirstAidProvided, now: datetime) -> list[Effect]:
    # rule: T2
    s.first_aid_pending = False
    return []


def _not_requested(s: CaseState, e: ServiceStarted) -> str | None:
    if s.services.get(e.data.service) != "requested":
        return f"service {e.data.service} is {s.services.get(e.data.service, 'not requested')}"
    return None


@handles(ServiceStarted, all_of(is_open, need(lambda s: "requested" in s.services.values(),
                                              "no requested service is waiting to start")), _not_requested)
def service_started(s: CaseState, p: Policy, e: ServiceStarted, now: datetime) -> list[Effect]:
    # rule: T1
    s.services[e.data.service] = "started"
    return []


def _not_started(s: CaseState, e: ServiceCompleted) -> str | None:
    if s.services.get(e.data.service) != "started":
        return f"service {e.data.service} is {s.services.get(e.data.service, 'not requested')}, not started"
    return None


@handles(ServiceCompleted, all_of(is_open, need(lambda s: "started" in s.services.values(), "no service has started")),
         _not_started)
def service_completed(s: CaseState, p: Policy, e: ServiceCompleted, now: datetime) -> list[Effect]:
    s.services[e.data.service] = "completed"
    return []


@handles(RehabilitationCompleted, in_stage(Stage.REHABILITATION))
def rehabilitation_completed(s: CaseState, p: Policy, e: RehabilitationCompleted, now: datetime) -> list[Effect]:
    # branch: abroad, domestic, foreign_national — repatriation, a domestic return, or none
    if e.data.needs_repatriation or s.facts.foreign_national or s.facts.abroad:
        effects = enter(s, Stage.REPATRIATION, now)
        if s.facts.foreign_national:
            return effects + refer(s, "handover_to_mission", now)
        if s.facts.abroad:
            effects += refer(s, "travel_document_and_return", now)
            if s.facts.pmi:
                effects += refer(s, "port_reception", now)
            return effects + refer(s, "onward_travel", now)
        return effects + refer(s, "domestic_return", now)
    s.note(now, "stage", "the victim is already home: repatriation skipped")
    return enter_reintegration(s, now)
