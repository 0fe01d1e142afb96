"""The event vocabulary (SPEC "Events"): an envelope, one typed `data` model per event type, and one class
per event type, written out family by family (`ScreeningCompleted` is `identification.screening_completed`).

Events are past tense: something an agency or operator reports has happened. `event_id` makes
delivery idempotent. The union is discriminated on `type`, so an unknown type or a bad field is named
precisely in the validation error. `EVENT_CLASSES` and `EVENT_TYPES` are read off the classes; what a case
does with each event is in `sinergi.domain.lifecycle`, in the module named after its family.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, ClassVar, Literal, get_args

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from sinergi.domain import limits, places
from sinergi.domain.ids import EVENT_ID_PATTERN
from sinergi.domain.limits import NAME_MAX, PLACE_MAX, STRICT, Id, Items, OfficeId, Text, Timestamp, is_strict

Service = Literal["health", "social", "repatriation", "reintegration"]
ConsentScope = Literal["services", "data_sharing", "legal"]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NoData(_Data):
    pass


class ScreeningCompletedData(_Data):
    outcome: Literal["presumed_victim", "not_victim", "needs_more_info"] = Field(description=(
        "what the screening found: a presumed victim (protection follows), not a victim (the case closes), or "
        "more information needed (screening goes on)"))
    indicators: Items(Id) = Field(default_factory=list, description=(
        "the trafficking indicators found, as short codes (e.g. deception, withholding_of_documents)"))
    referred_elsewhere: Text(NAME_MAX) | None = Field(default=None, description=(
        "where a person found not to be a victim was referred instead"))


class PoliceReportFiledData(_Data):
    report_number: str = Field(min_length=1, max_length=100, description="the police report's number")


class ShelterAdmittedData(_Data):
    facility: str = Field(min_length=1, max_length=200, description="the shelter the victim was admitted to")


class LpskDecisionData(_Data):
    decision: Literal["accepted", "rejected", "recommendation"] = Field(description=(
        "LPSK's decision on the protection application"))


class RequestFiledData(_Data):
    services: Items(Service) = Field(min_length=1, description="the services requested (UU 21/2007 Art. 51)")
    filed_by: Literal["victim", "family", "companion", "police", "social_worker"] = Field(description=(
        "who filed the request"))


class ServiceData(_Data):
    service: Service = Field(description="the rehabilitation service")


class RehabilitationCompletedData(_Data):
    return_to: str | None = Field(default=None, max_length=PLACE_MAX, description=(
        "the regency the victim returns to: a name (Kabupaten Banjar) or a Kemendagri code (63.03), in any "
        "province, kept as the code"))
    needs_repatriation: bool = Field(description=(
        "true: the victim is to be brought home (repatriation) before reintegration"))

    @field_validator("return_to")
    @classmethod
    def _regency_by_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Where the event enters (`STRICT`), as an intake's home regency (SPEC "Places"); older histories as written.
        return places.regency_anywhere(value).code if value is not None and is_strict(info) else value


class RiskAssessedData(_Data):
    safe: bool = Field(description="whether returning home is safe for the victim; false stops the return")


class BestInterestData(_Data):
    caregiver_confirmed: bool = Field(description="a caregiver is confirmed to receive the child")
    return_in_best_interest: bool = Field(description="returning is in the child's best interest")


class PortData(_Data):
    port: str | None = Field(default=None, max_length=100, description="the port of departure or entry")


class ArrivedHomeData(_Data):
    regency: str = Field(min_length=1, max_length=PLACE_MAX, description=(
        "the regency the victim arrived home in, which becomes the case's: a name (Kabupaten Banjar) or a "
        "Kemendagri code (63.03), kept as the code"))

    @field_validator("regency")
    @classmethod
    def _regency_by_code(cls, value: str, info: ValidationInfo) -> str:
        # Where the event enters (`STRICT`), as an intake's home regency: in any province (SPEC "Places").
        return places.regency_anywhere(value).code if is_strict(info) else value


class HandedOverData(_Data):
    mission: str = Field(min_length=1, max_length=200, description=(
        "the mission (embassy or consulate) the victim was handed over to"))


class FollowupData(_Data):
    wellbeing: Literal["stable", "at_risk", "crisis"] = Field(description=(
        "how the victim is at the follow-up visit; crisis re-opens protection"))


class ReferralData(_Data):
    referral_id: Annotated[str, limits.at_most(limits.ID_MAX)] = Field(
        min_length=1, max_length=128, json_schema_extra={"maxLength": limits.ID_MAX},
        description="the referral answered, by its id")
    reason: str | None = Field(default=None, max_length=limits.TEXT_MAX, description=(
        "why: for a decline the reason, otherwise a note"))


# Why an office declines, as a code the coordination meeting can count (`report offices`: `decline_reasons`); the
# reason in words may name the victim, so it is sealed and never counted.
DeclineReason = Literal["no_capacity", "outside_jurisdiction", "not_our_service", "not_eligible", "victim_declined",
                        "other"]


class DeclineData(ReferralData):
    reason_code: DeclineReason | None = Field(default=None, description=(
        "why, as a code reports count: no_capacity (no place or staff now), outside_jurisdiction (not our area), "
        "not_our_service (we do not give this service), not_eligible (the victim does not meet our criteria), "
        "victim_declined (the victim refused the service), other; none: not coded"))


class ConsentData(_Data):
    scope: ConsentScope = Field(description=(
        "what the consent is for: services, sharing data with offices, or the legal process"))
    # An office id or agency kind; kept in the case while consent stays withheld from it.
    agency: OfficeId | None = Field(default=None, description=(
        "the one office (id) or agency kind it concerns; none: every office"))


_TO_PROVINCE = ("the province the case moves to: sinergi's short code (e.g. JATIM), the Kemendagri code (35) or "
                "the name; kept as the short code")


class TransferData(_Data):
    # Where the event enters (`STRICT`) a place is taken by name or code and kept by code, as an intake's
    # (SPEC "Places"); read back from a history it is taken as it was stored.
    # The pattern is the kept form's; the document describes what is accepted.
    province: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$", description=_TO_PROVINCE), WithJsonSchema(
        {"type": "string", "maxLength": PLACE_MAX, "examples": ["JATIM", "35", "Jawa Timur"],
         "description": _TO_PROVINCE})]
    regency: str | None = Field(default=None, max_length=PLACE_MAX, description=(
        "the regency it moves to, in that province: a name (Kota Surabaya, Surabaya) or a Kemendagri code "
        "(35.78), kept as the code; none: the whole province"))

    @field_validator("province", mode="before")
    @classmethod
    def _province_by_short_code(cls, value: object, info: ValidationInfo) -> object:
        return places.kept_province(value, is_strict(info), PLACE_MAX)

    @field_validator("regency")
    @classmethod
    def _regency_by_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        return places.kept_regency(value, info.data.get("province"), is_strict(info))


class ClosedData(_Data):
    reason: str = Field(min_length=1, max_length=limits.TEXT_MAX, description=(
        "why the case is closed (kept in its timeline)"))


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Ids of up to 128 characters were once taken: histories holding one still load; entering, at most ID_MAX.
    event_id: Annotated[str, limits.at_most(limits.ID_MAX)] = Field(
        pattern=EVENT_ID_PATTERN, json_schema_extra={"maxLength": limits.ID_MAX})
    case_id: str = Field(min_length=3, max_length=64)
    # An RFC 3339 string (a number is refused), not before 1990; "not in the future" needs a clock, so the
    # case's validator checks it against its own (`limits.check_occurred_at`).
    occurred_at: Timestamp
    # Who reported it: an office id from the agency registry, or `operator:<name>` from the CLI.
    source: str | None = Field(default=None, max_length=100)


# --- the events: one class per type, `effect` in words; `data` may be left out when none of its fields is
# required. No docstrings here: pydantic would put them in the API document.

# case.opened: recorded by sinergi itself as the case opens

class CaseOpened(_Event):
    type: Literal["case.opened"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "the case was opened from an intake"


# identification.*

class ScreeningCompleted(_Event):
    type: Literal["identification.screening_completed"]
    data: ScreeningCompletedData
    effect: ClassVar[str] = "moves to protection / closes / extends screening"

class PoliceReportFiled(_Event):
    type: Literal["identification.police_report_filed"]
    data: PoliceReportFiledData
    effect: ClassVar[str] = "needed before an Art. 51 request"


# protection.*

class ShelterAdmitted(_Event):
    type: Literal["protection.shelter_admitted"]
    data: ShelterAdmittedData
    effect: ClassVar[str] = "the victim is in a shelter (stops S2)"

class ShelterDischarged(_Event):
    type: Literal["protection.shelter_discharged"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "the victim left the shelter"

class PoliceProtectionGranted(_Event):
    type: Literal["protection.police_protection_granted"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "police granted temporary protection (stops T12)"

class LpskApplicationFiled(_Event):
    type: Literal["protection.lpsk_application_filed"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "a protection application to LPSK was filed (starts T3, T4)"

class LpskDecision(_Event):
    type: Literal["protection.lpsk_decision"]
    data: LpskDecisionData
    effect: ClassVar[str] = "LPSK decided on the application (stops T3, T4)"

class SafePlacementConfirmed(_Event):
    type: Literal["protection.safe_placement_confirmed"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "moves to rehabilitation"


# rehabilitation.*

class RequestFiled(_Event):
    type: Literal["rehabilitation.request_filed"]
    data: RequestFiledData
    effect: ClassVar[str] = "rehabilitation was requested (starts T1 per service)"

class FirstAidRequested(_Event):
    type: Literal["rehabilitation.first_aid_requested"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "urgent first aid was requested (starts T2)"

class FirstAidProvided(_Event):
    type: Literal["rehabilitation.first_aid_provided"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "urgent first aid was given (stops T2)"

class ServiceStarted(_Event):
    type: Literal["rehabilitation.service_started"]
    data: ServiceData
    effect: ClassVar[str] = "the service started (stops T1 for that service)"

class ServiceCompleted(_Event):
    type: Literal["rehabilitation.service_completed"]
    data: ServiceData
    effect: ClassVar[str] = "the service is done"

class RehabilitationCompleted(_Event):
    type: Literal["rehabilitation.completed"]
    data: RehabilitationCompletedData
    effect: ClassVar[str] = "moves to repatriation or reintegration"


# repatriation.*

class RiskAssessed(_Event):
    type: Literal["repatriation.risk_assessed"]
    data: RiskAssessedData
    effect: ClassVar[str] = "an unsafe return stops repatriation"

class BestInterestDetermined(_Event):
    type: Literal["repatriation.best_interest_determined"]
    data: BestInterestData
    effect: ClassVar[str] = "a child returns only with a caregiver and in their best interest"

class TravelDocumentIssued(_Event):
    type: Literal["repatriation.travel_document_issued"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "travel document issued"

class Departed(_Event):
    type: Literal["repatriation.departed"]
    data: PortData = Field(default_factory=PortData)
    effect: ClassVar[str] = "the victim left for home"

class ArrivedPortOfEntry(_Event):
    type: Literal["repatriation.arrived_port_of_entry"]
    data: PortData = Field(default_factory=PortData)
    effect: ClassVar[str] = "received at the port"

class ArrivedHome(_Event):
    type: Literal["repatriation.arrived_home"]
    data: ArrivedHomeData
    effect: ClassVar[str] = "moves to reintegration"

class HandedOver(_Event):
    type: Literal["repatriation.handed_over"]
    data: HandedOverData
    effect: ClassVar[str] = "a foreign national is handed to their mission: the case ends"


# reintegration.*

class PlanAgreed(_Event):
    type: Literal["reintegration.plan_agreed"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "starts follow-up clocks"

class FollowupCompleted(_Event):
    type: Literal["reintegration.followup_completed"]
    data: FollowupData
    effect: ClassVar[str] = "`crisis` re-opens protection"

class RightsSettled(_Event):
    type: Literal["reintegration.rights_settled"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "unpaid rights settled"

class ReintegrationCompleted(_Event):
    type: Literal["reintegration.completed"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "closes the case"


# referral.*

class ReferralAcknowledged(_Event):
    type: Literal["referral.acknowledged"]
    data: ReferralData
    effect: ClassVar[str] = "the office received the referral (stops S3)"

class ReferralAccepted(_Event):
    type: Literal["referral.accepted"]
    data: ReferralData
    effect: ClassVar[str] = "the office takes the referral on (stops S4)"

class ReferralDeclined(_Event):
    type: Literal["referral.declined"]
    data: DeclineData
    effect: ClassVar[str] = "re-routes or escalates"

class ReferralCompleted(_Event):
    type: Literal["referral.completed"]
    data: ReferralData
    effect: ClassVar[str] = "closes the referral"


# consent.*

class ConsentRecorded(_Event):
    type: Literal["consent.recorded"]
    data: ConsentData
    effect: ClassVar[str] = "consent given for a purpose"

class ConsentWithdrawn(_Event):
    type: Literal["consent.withdrawn"]
    data: ConsentData
    effect: ClassVar[str] = "stops outbound sharing at once"


# case.*: about the case as a whole

class ContactLost(_Event):
    type: Literal["case.contact_lost"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "pauses victim-dependent clocks"

class ContactRestored(_Event):
    type: Literal["case.contact_restored"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "resumes victim-dependent clocks"

class VictimDeceased(_Event):
    type: Literal["case.victim_deceased"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "closes assistance; the legal track goes on"

class CaseTransferred(_Event):
    type: Literal["case.transferred"]
    data: TransferData
    effect: ClassVar[str] = "re-routes referrals"

class DataBreachDiscovered(_Event):
    type: Literal["case.data_breach_discovered"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "a breach of the victim's personal data was found (starts T21)"

class DataBreachNotified(_Event):
    type: Literal["case.data_breach_notified"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "the breach was notified (stops T21)"

class CaseClosed(_Event):
    type: Literal["case.closed"]
    data: ClosedData
    effect: ClassVar[str] = "an operator closes the case"


# legal.*: the legal track, which runs beside the assistance and can outlive it

class InvestigationOpened(_Event):
    type: Literal["legal.investigation_opened"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "opens the legal track"

class JudgmentFinal(_Event):
    type: Literal["legal.judgment_final"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "the judgment is final: restitution is due (starts T6)"

class RestitutionPaid(_Event):
    type: Literal["legal.restitution_paid"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "restitution was paid (stops T6); the legal track ends"

class ProceedingsEnded(_Event):
    type: Literal["legal.proceedings_ended"]
    data: NoData = Field(default_factory=NoData)
    effect: ClassVar[str] = "closes the legal track"


# The union, in the order the API document and `accepted_now` list the types; parsing picks the class by `type`.
Event = Annotated[
    CaseOpened | ScreeningCompleted | PoliceReportFiled | ShelterAdmitted | ShelterDischarged |
    PoliceProtectionGranted | LpskApplicationFiled | LpskDecision | SafePlacementConfirmed | RequestFiled |
    FirstAidRequested | FirstAidProvided | ServiceStarted | ServiceCompleted | RehabilitationCompleted |
    RiskAssessed | BestInterestDetermined | TravelDocumentIssued | Departed | ArrivedPortOfEntry | ArrivedHome |
    HandedOver | PlanAgreed | FollowupCompleted | RightsSettled | ReintegrationCompleted | ReferralAcknowledged |
    ReferralAccepted | ReferralDeclined | ReferralCompleted | ConsentRecorded | ConsentWithdrawn | ContactLost |
    ContactRestored | VictimDeceased | CaseTransferred | DataBreachDiscovered | DataBreachNotified | CaseClosed |
    InvestigationOpened | JudgmentFinal | RestitutionPaid | ProceedingsEnded,
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)


def event_type(cls: type[_Event]) -> str:
    """The wire name of an event class (its `type` literal)."""
    return get_args(cls.model_fields["type"].annotation)[0]


EVENT_CLASSES: dict[str, type[_Event]] = {event_type(cls): cls for cls in get_args(get_args(Event)[0])}
EVENT_TYPES: dict[str, tuple[str, type[_Data], str]] = {
    # type: (class name, data model, effect in words)
    t: (cls.__name__, cls.model_fields["data"].annotation, cls.effect) for t, cls in EVENT_CLASSES.items()
}

# Events the system records itself; no agency or operator may send them.
INTERNAL_EVENT_TYPES = frozenset({"case.opened"})


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
        # By code: an agreement's places are codes now, a sender kept in an older history holds names.
        if self.provinces and not any(places.same_province(province, p) for p in self.provinces):
            return False
        return not self.regencies or any(places.same_regency(regency, r, province) for r in self.regencies)

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
    # Who entered an office's event on its behalf (`case event --as`): `operator:<name>`, as the gateway's codec
    # verified it (sinergi.gateway.stamping). None when the office's own system or page sent it, and ignored on
    # an operator's own entry (its `source` names the operator).
    entered_by: str | None = Field(default=None, max_length=80)
    # When it was sealed: the gateway's clock for an operator's laptop (sinergi.gateway.stamping), else the
    # sending process's (`Cases.send`). Once a sender's oldest applied ids are forgotten, the case refuses what
    # was sealed before them (`authority.stale`): a sealed event copied from the history cannot apply twice.
    sent_at: AwareDatetime | None = None


def parse_event(raw: dict | str | bytes) -> Event:
    """Validate an event envelope (dict or JSON) as it enters, limits included; raises
    pydantic.ValidationError naming each bad field."""
    if isinstance(raw, dict):
        return EVENT_ADAPTER.validate_python(raw, context=STRICT)
    return EVENT_ADAPTER.validate_json(raw, context=STRICT)
