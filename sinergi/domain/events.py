"""The event vocabulary (SPEC "Events"): an envelope and one typed `data` model per event type.

Events are past tense: something an agency or operator reports has happened. `event_id` makes
delivery idempotent. The union is discriminated on `type`, so an unknown type or a bad field is named
precisely in the validation error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from sinergi.domain.ids import EVENT_ID_PATTERN
from sinergi.domain.limits import NAME_MAX, STRICT, Id, Items, OfficeId, Text, Timestamp

Service = Literal["health", "social", "repatriation", "reintegration"]
ConsentScope = Literal["services", "data_sharing", "legal"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoData(_Data):
    pass


class ScreeningCompletedData(_Data):
    outcome: Literal["presumed_victim", "not_victim", "needs_more_info"]
    indicators: Items(Id) = Field(default_factory=list)
    referred_elsewhere: Text(NAME_MAX) | None = None


class PoliceReportFiledData(_Data):
    report_number: str = Field(min_length=1, max_length=100)


class ShelterAdmittedData(_Data):
    facility: str = Field(min_length=1, max_length=200)


class LpskDecisionData(_Data):
    decision: Literal["accepted", "rejected", "recommendation"]


class RequestFiledData(_Data):
    services: Items(Service) = Field(min_length=1)
    filed_by: Literal["victim", "family", "companion", "police", "social_worker"]


class ServiceData(_Data):
    service: Service


class RehabilitationCompletedData(_Data):
    return_to: str | None = Field(default=None, max_length=100)
    needs_repatriation: bool


class RiskAssessedData(_Data):
    safe: bool


class BestInterestData(_Data):
    caregiver_confirmed: bool
    return_in_best_interest: bool


class PortData(_Data):
    port: str | None = Field(default=None, max_length=100)


class ArrivedHomeData(_Data):
    regency: str = Field(min_length=1, max_length=100)


class HandedOverData(_Data):
    mission: str = Field(min_length=1, max_length=200)


class FollowupData(_Data):
    wellbeing: Literal["stable", "at_risk", "crisis"]


class ReferralData(_Data):
    referral_id: str = Field(min_length=1, max_length=128)
    reason: str | None = Field(default=None, max_length=1000)


class ConsentData(_Data):
    scope: ConsentScope
    # An office id or agency kind; kept in the case while consent stays withheld from it.
    agency: OfficeId | None = None


class TransferData(_Data):
    province: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")
    regency: str | None = Field(default=None, max_length=100)


class ClosedData(_Data):
    reason: str = Field(min_length=1, max_length=500)


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(pattern=EVENT_ID_PATTERN)
    case_id: str = Field(min_length=3, max_length=64)
    # An RFC 3339 string (a number is refused), not before 1990; "not in the future" needs a clock, so the
    # case's validator checks it against its own (`limits.check_occurred_at`).
    occurred_at: Timestamp
    # Who reported it: an office id from the agency registry, or `operator:<name>` from the CLI.
    source: str | None = Field(default=None, max_length=100)


def _event(type_name: str, data_model: type[_Data], cls_name: str) -> type[_Event]:
    # One class per event type, generated so that the table below is the single place listing them.
    annotations = {"type": Literal[type_name], "data": data_model}  # type: ignore[valid-type]
    defaults = {"data": Field(default_factory=data_model)} if not data_model.model_fields or all(
        not f.is_required() for f in data_model.model_fields.values()
    ) else {}
    return type(cls_name, (_Event,), {"__annotations__": annotations, "__module__": __name__, **defaults})


EVENT_TYPES: dict[str, tuple[str, type[_Data], str]] = {
    # type: (class name, data model, effect in words)
    "case.opened": ("CaseOpened", NoData, "the case was opened from an intake"),
    "identification.screening_completed": ("ScreeningCompleted", ScreeningCompletedData,
                                           "moves to protection / closes / extends screening"),
    "identification.police_report_filed": ("PoliceReportFiled", PoliceReportFiledData,
                                            "needed before an Art. 51 request"),
    "protection.shelter_admitted": ("ShelterAdmitted", ShelterAdmittedData, "stops S2"),
    "protection.shelter_discharged": ("ShelterDischarged", NoData, "the victim left the shelter"),
    "protection.police_protection_granted": ("PoliceProtectionGranted", NoData, "stops T12"),
    "protection.lpsk_application_filed": ("LpskApplicationFiled", NoData, "starts T3, T4"),
    "protection.lpsk_decision": ("LpskDecision", LpskDecisionData, "stops T3, T4"),
    "protection.safe_placement_confirmed": ("SafePlacementConfirmed", NoData, "moves to rehabilitation"),
    "rehabilitation.request_filed": ("RequestFiled", RequestFiledData, "starts T1 per service"),
    "rehabilitation.first_aid_requested": ("FirstAidRequested", NoData, "starts T2"),
    "rehabilitation.first_aid_provided": ("FirstAidProvided", NoData, "stops T2"),
    "rehabilitation.service_started": ("ServiceStarted", ServiceData, "stops T1 for that service"),
    "rehabilitation.service_completed": ("ServiceCompleted", ServiceData, "the service is done"),
    "rehabilitation.completed": ("RehabilitationCompleted", RehabilitationCompletedData,
                                 "moves to repatriation or reintegration"),
    "repatriation.risk_assessed": ("RiskAssessed", RiskAssessedData, "an unsafe return stops repatriation"),
    "repatriation.best_interest_determined": ("BestInterestDetermined", BestInterestData,
                                              "a child returns only with a caregiver and in their best interest"),
    "repatriation.travel_document_issued": ("TravelDocumentIssued", NoData, "travel document issued"),
    "repatriation.departed": ("Departed", PortData, "the victim left for home"),
    "repatriation.arrived_port_of_entry": ("ArrivedPortOfEntry", PortData, "received at the port"),
    "repatriation.arrived_home": ("ArrivedHome", ArrivedHomeData, "moves to reintegration"),
    "repatriation.handed_over": ("HandedOver", HandedOverData,
                                 "a foreign national is handed to their mission: the case ends"),
    "reintegration.plan_agreed": ("PlanAgreed", NoData, "starts follow-up clocks"),
    "reintegration.followup_completed": ("FollowupCompleted", FollowupData, "`crisis` re-opens protection"),
    "reintegration.rights_settled": ("RightsSettled", NoData, "unpaid rights settled"),
    "reintegration.completed": ("ReintegrationCompleted", NoData, "closes the case"),
    "referral.acknowledged": ("ReferralAcknowledged", ReferralData, "stops S3"),
    "referral.accepted": ("ReferralAccepted", ReferralData, "stops S4"),
    "referral.declined": ("ReferralDeclined", ReferralData, "re-routes or escalates"),
    "referral.completed": ("ReferralCompleted", ReferralData, "closes the referral"),
    "consent.recorded": ("ConsentRecorded", ConsentData, "consent given for a purpose"),
    "consent.withdrawn": ("ConsentWithdrawn", ConsentData, "stops outbound sharing at once"),
    "case.contact_lost": ("ContactLost", NoData, "pauses victim-dependent clocks"),
    "case.contact_restored": ("ContactRestored", NoData, "resumes victim-dependent clocks"),
    "case.victim_deceased": ("VictimDeceased", NoData, "closes assistance; the legal track goes on"),
    "case.transferred": ("CaseTransferred", TransferData, "re-routes referrals"),
    "case.data_breach_discovered": ("DataBreachDiscovered", NoData, "starts T21"),
    "case.data_breach_notified": ("DataBreachNotified", NoData, "stops T21"),
    "case.closed": ("CaseClosed", ClosedData, "an operator closes the case"),
    "legal.investigation_opened": ("InvestigationOpened", NoData, "opens the legal track"),
    "legal.judgment_final": ("JudgmentFinal", NoData, "starts T6"),
    "legal.restitution_paid": ("RestitutionPaid", NoData, "stops T6"),
    "legal.proceedings_ended": ("ProceedingsEnded", NoData, "closes the legal track"),
}

EVENT_CLASSES: dict[str, type[_Event]] = {
    type_name: _event(type_name, data_model, cls_name)
    for type_name, (cls_name, data_model, _) in EVENT_TYPES.items()
}
globals().update({cls.__name__: cls for cls in EVENT_CLASSES.values()})

# Events the system records itself; no agency or operator may send them.
INTERNAL_EVENT_TYPES = frozenset({"case.opened"})

Event = Annotated[Union[tuple(EVENT_CLASSES.values())], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


class Sender(BaseModel):
    """The office an event comes from, as the agreement registry describes it.

    The case itself decides what the office may say about it (`sinergi.domain.authority`): it knows its
    referrals, notices and lead office exactly, at the moment the event would apply.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    office: str
    provinces: tuple[str, ...] = Field(default=(), description="empty: national")
    regencies: tuple[str, ...] = Field(default=(), description="empty: the whole province")
    countries: tuple[str, ...] = Field(default=(), description="missions abroad: the countries they cover")
    # The agreement's `may_send` globs; None from senders older than the case's own check of them.
    may_send: tuple[str, ...] | None = None

    def covers(self, province: str, regency: str | None, country: str | None = None) -> bool:
        """Whether the office's jurisdiction includes this place (routing's question, never authority's)."""
        if self.countries:
            return country in self.countries
        if self.provinces and province not in self.provinces:
            return False
        return not self.regencies or regency in self.regencies

    def is_party(self, agencies: Iterable[str]) -> bool:
        """Whether the office is among a case's offices (`CaseAgencies`): for a case no worker answers
        for any more. A running case decides with `authority.check`."""
        return self.office in agencies


class EventEnvelope(BaseModel):
    """The wire form of an event: typed as a whole so it can cross a Temporal boundary as one model.

    `sender` is the office that sent it through the gateway (or `case event --as`); none for an
    operator's entry. The case refuses an event from an office that is not part of it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: Event
    sender: Sender | None = None


def parse_event(raw: dict | str | bytes) -> Event:
    """Validate an event envelope (dict or JSON) as it enters, limits included; raises
    pydantic.ValidationError naming each bad field."""
    if isinstance(raw, dict):
        return EVENT_ADAPTER.validate_python(raw, context=STRICT)
    return EVENT_ADAPTER.validate_json(raw, context=STRICT)
