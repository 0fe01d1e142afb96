"""The intake: what is known of a person when their case opens (SPEC "Intake file").

Everything under `person` is personal data: it lives only in encrypted payloads and is given to an
agency only field by field, as its agreement allows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sinergi.domain.agency_kinds import AgencyKind
from sinergi.domain.limits import ID_MAX, NAME_MAX, TEXT_MAX, Id, Items, Text, Timestamp

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
    home_regency: str | None = Field(default=None, max_length=100)
    identity_document: str | None = Field(default=None, max_length=ID_MAX)


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

    province: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")
    regency: str | None = Field(default=None, max_length=100, description="regency/city handling the case")
    received_at: Timestamp
    source: Source
    person: Person
    situation: Situation = Field(default_factory=Situation)
    consent: Consent
    flags: Flags = Field(default_factory=Flags)

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
