"""The intake: what is known of a person when their case opens (SPEC "Intake file").

Everything under `person` is personal data: it lives only in encrypted payloads and is given to an
agency only field by field, as its agreement allows.

Places (SPEC "Places", docs/places.md): where an intake enters (validated with `limits.STRICT`), `province` is
taken as sinergi's short code, the Kemendagri code or the name and kept as the short code (`KALSEL`); `regency`
and `person.home_regency` as a name, matched forgivingly, or a code, and kept as the Kemendagri code (`63.03`).
A place that does not exist is refused with the nearest names. An intake read back from a history is taken as
it was stored: one opened before places were codes keeps its regency as written (`Kabupaten Banjar`, or a
typo), and `places.known_regency` / `places.label` tell what they can of it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from sinergi.domain import places
from sinergi.domain.agency_kinds import AgencyKind
from sinergi.domain.limits import ID_MAX, NAME_MAX, PLACE_MAX, TEXT_MAX, Id, Items, Text, Timestamp, is_strict

CHILD_AGE = 18


class _Strict(BaseModel):
    # Unknown fields are refused: a typo in an intake must not silently drop data.
    model_config = ConfigDict(extra="forbid", frozen=True)


Country = str  # ISO 3166-1 alpha-2


class Source(_Strict):
    agency: AgencyKind
    channel: Literal[
        "debarkation", "complaint", "outreach", "border_interception", "mission_report", "deportation",
        "hotline", "police_referral", "other",
    ]


class Person(_Strict):
    full_name: str | None = Field(default=None, max_length=200)
    sex: Literal["F", "M", "X"] | None = None
    date_of_birth: date | None = None
    age_estimate: int | None = Field(default=None, ge=0, le=120)
    nationality: Country | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ()-]{6,20}$")
    email: str | None = Field(default=None, max_length=200)
    address: Text(TEXT_MAX) | None = None
    home_regency: str | None = Field(default=None, max_length=PLACE_MAX, description=(
        "regency/city of the person's home: a name (`Kabupaten Banjar`, `kab. banjar`) or a Kemendagri code "
        "(`63.03`); kept as the code"))
    identity_document: str | None = Field(default=None, max_length=ID_MAX)

    @field_validator("home_regency")
    @classmethod
    def _home_regency_by_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Nationally: a home may be in any province. The intake looks in its own province first (`Banjar`).
        if value is None or not is_strict(info):
            return value
        return places.regency_anywhere(value).code


class Situation(_Strict):
    location_country: Country = Field(default="ID", pattern=r"^[A-Z]{2}$")
    location_province: Text(NAME_MAX) | None = None
    exploitation: Items(Id) = Field(default_factory=list)
    sector: Text(ID_MAX) | None = None
    means_of_control: Items(Id) = Field(default_factory=list)
    is_pmi: bool = False
    procedural: bool | None = None
    placement_company: Text(NAME_MAX) | None = None
    destination_country: Country | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    # Who recruited the victim, by relation (HTCDS's recruiter relation, for the CTDC export); none: not asked.
    recruiter_relation: Literal["intimate_partner", "friend", "family", "other", "unknown"] | None = None


class Consent(_Strict):
    services: bool = False
    data_sharing: bool = False
    legal: bool = False
    recorded_by: str = Field(min_length=1, max_length=100)


class Flags(_Strict):
    sexual_exploitation: bool = False
    urgent_medical: bool = False


class Intake(_Strict):
    """An intake file, validated. `is_child`, `abroad` and `foreign_national` are derived."""

    province: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$", description=(
        "the case's province: sinergi's short code (`KALSEL`), the Kemendagri code (`63`) or the name "
        "(`Kalimantan Selatan`); kept as the short code"))
    regency: str | None = Field(default=None, max_length=PLACE_MAX, description=(
        "regency/city handling the case, in its province: a name (`Kabupaten Banjar`, `kab. banjar`, `Banjar`) "
        "or a Kemendagri code (`63.03`); kept as the code"))
    received_at: Timestamp
    source: Source
    person: Person
    situation: Situation = Field(default_factory=Situation)
    consent: Consent
    flags: Flags = Field(default_factory=Flags)

    # Places are checked, and rewritten to their codes, only where an intake enters (`limits.STRICT`): an
    # intake read back from a history holds whatever was accepted then, and must load unchanged.

    @model_validator(mode="before")
    @classmethod
    def _home_regency_in_this_province_first(cls, data: object, info: ValidationInfo) -> object:
        """`Banjar` as a home regency is Kabupaten Banjar in a KALSEL intake (Kota Banjar is in Jawa Barat).
        What the intake's province does not hold is left to `Person`, which looks nationally and refuses."""
        if not is_strict(info) or not isinstance(data, dict):
            return data
        person, where = data.get("person"), places.known_province(data.get("province"))
        home = person.get("home_regency") if isinstance(person, dict) else None
        if where is None or not isinstance(home, str):
            return data
        try:
            code = places.regency(home, where).code
        except places.PlaceError:
            return data
        return {**data, "person": {**person, "home_regency": code}}

    @field_validator("province", mode="before")
    @classmethod
    def _province_by_short_code(cls, value: object, info: ValidationInfo) -> object:
        return places.kept_province(value, is_strict(info), PLACE_MAX)

    @field_validator("regency")
    @classmethod
    def _regency_by_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        return places.kept_regency(value, info.data.get("province"), is_strict(info))

    @model_validator(mode="after")
    def _dates_are_plausible(self) -> Intake:
        dob = self.person.date_of_birth
        if dob is not None and dob > self.received_at.date():
            raise ValueError("person.date_of_birth is after received_at: expected a date in the past")
        return self

    # A plain property, not a computed field: the intake must round-trip through history unchanged,
    # and an `is_child` in the input would be an unknown field.
    @property
    def is_child(self) -> bool:
        """Under 18 at intake; a person of unknown age is treated as a child (IOM/UNICEF benchmark)."""
        age = age_at(self.person, self.received_at)
        return age is None or age < CHILD_AGE

    @property
    def abroad(self) -> bool:
        return self.situation.location_country != "ID"

    @property
    def foreign_national(self) -> bool:
        return self.person.nationality not in (None, "ID")


def age_at(person: Person, when: datetime) -> int | None:
    """Age in whole years at `when`, from the date of birth, else the estimate; None when unknown."""
    if person.date_of_birth is not None:
        dob, day = person.date_of_birth, when.date()
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))
    return person.age_estimate


def field_value(intake: Intake, dotted: str) -> object:
    """The value of an intake field by dotted path (`person.full_name`)."""
    value: object = intake
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def shareable_fields() -> list[str]:
    """Every dotted intake field an agreement's `receives` may name."""
    out: list[str] = []
    for section in ("person", "situation", "flags", "source"):
        model = Intake.model_fields[section].annotation
        out.extend(f"{section}.{name}" for name in model.model_fields)  # type: ignore[union-attr] - each section is a model
    out.extend(["province", "regency", "received_at", "is_child"])
    return out
