"""The agreement registry (the MoU, SPEC `agencies.toml`): offices, jurisdictions, and what each may
send and receive. Pure models; `sinergi.agencies.load_registry` reads them from a file.

An office's `provinces` and `regencies` may be written by name or code (SPEC "Places"); a place that does not
exist is refused with the nearest names, and the office keeps provinces by sinergi's short code (`KALSEL`) and
regencies by Kemendagri code (`63.03`), as intakes are kept. Routing compares places by code, so a case opened
before regencies were codes (`Kabupaten Banjar`) still reaches the office covering 63.03."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sinergi.domain import authority, places
from sinergi.domain.agency_kinds import AgencyKind
from sinergi.domain.durations import parse_seconds
from sinergi.domain.events import EVENT_TYPES, INTERNAL_EVENT_TYPES, Sender
from sinergi.domain.intake import shareable_fields

T = TypeVar("T")


class Office(BaseModel):
    """One office bound by the agreement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    name: str = Field(min_length=1)
    kind: AgencyKind
    provinces: list[str] = Field(default_factory=list, description="empty: national")
    regencies: list[str] = Field(default_factory=list, description="empty: the whole province")
    countries: list[str] = Field(default_factory=list, description="missions abroad: the countries they cover")
    adapter: str = "webhook"
    # The language of what the office reads from sinergi: its e-mails and referral pages (SPEC "Language").
    language: Literal["id", "en"] = "id"
    response_time: str = "24h"
    may_send: list[str] = Field(default_factory=list)
    receives: list[str] = Field(default_factory=list)
    settings: dict[str, Any] = Field(default_factory=dict)

    @field_validator("provinces")
    @classmethod
    def _provinces_by_short_code(cls, written: list[str]) -> list[str]:
        return _distinct(places.province(p).short for p in written)

    @field_validator("regencies")
    @classmethod
    def _regencies_by_code(cls, written: list[str], info: ValidationInfo) -> list[str]:
        if "provinces" not in info.data:
            return written  # its provinces are refused: where to look for its regencies is unknown
        provinces = info.data["provinces"]
        codes = []
        for text in written:
            found = places.regency(text) if not provinces else _regency_in(text, provinces)
            if found.province.short not in provinces:
                raise ValueError(f"{found.label} is in {found.province.name}: an office covering it lists its "
                                 f"province too (provinces = [\"{found.province.short}\"])")
            codes.append(found.code)
        return _distinct(codes)

    @field_validator("response_time")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_seconds(value)
        return value

    @field_validator("may_send")
    @classmethod
    def _known_event_patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            if not fnmatch.filter(EVENT_TYPES, pattern):
                raise ValueError(f"{pattern!r} matches no event type (e.g. 'protection.*', 'referral.*')")
        return patterns

    @field_validator("receives")
    @classmethod
    def _known_fields(cls, patterns: list[str]) -> list[str]:
        known = shareable_fields()
        for pattern in patterns:
            if not fnmatch.filter(known, pattern):
                raise ValueError(f"{pattern!r} matches no intake field (e.g. 'person.sex', 'situation.*')")
        return patterns

    @property
    def response_seconds(self) -> int:
        return parse_seconds(self.response_time)

    def may_send_type(self, event_type: str) -> bool:
        return event_type not in INTERNAL_EVENT_TYPES and authority.type_allowed(self.may_send, event_type)

    def allowed_fields(self) -> list[str]:
        """The intake fields this office may be given, expanded from its `receives` globs."""
        return [f for f in shareable_fields() if any(fnmatch.fnmatchcase(f, p) for p in self.receives)]

    @property
    def sender(self) -> Sender:
        """This office as the sender of an event: what the case checks its authority against."""
        return Sender(office=self.id, provinces=tuple(self.provinces), regencies=tuple(self.regencies),
                      countries=tuple(self.countries), may_send=tuple(self.may_send))


class AgencyRegistry(BaseModel):
    model_config = ConfigDict(frozen=True)

    offices: dict[str, Office]

    def served_at(self, base_url: str, *, every_office: bool = False) -> AgencyRegistry:
        """This registry with every webhook office's `base_url` at `{base_url}/{office}` (the sandbox agencies
        serve every office of a registry on one port). `every_office`: the e-mail offices too, as webhook
        offices there (for test kits whose stand-in gateway serves no referral page)."""
        offices = {
            oid: o.model_copy(update={"settings": {**o.settings, "base_url": f"{base_url.rstrip('/')}/{oid}"},
                                      **({"adapter": "webhook"} if every_office else {})})
            if o.adapter == "webhook" or every_office else o
            for oid, o in self.offices.items()
        }
        return AgencyRegistry(offices=offices)

    def route(self, kind: str, province: str, regency: str | None, *, country: str | None = None,
              level: str = "office") -> Office | None:
        """The office of `kind` for a case: the one covering its regency, else its province, else national.

        Missions abroad (`countries`) are chosen by the country the victim is in.
        """
        candidates = [o for o in self.offices.values() if o.kind == kind]
        if country and any(o.countries for o in candidates):
            found = [o for o in candidates if country in o.countries]
            if found:
                return found[0]
        # By code: a case holds `KALSEL` and `63.03`, or, opened before regencies were codes, the name its operator
        # wrote (`Kabupaten Banjar`); one naming no regency (a typo) gets its province's offices.
        in_province = [o for o in candidates if any(places.same_province(province, p) for p in o.provinces)]
        regency_offices = [o for o in in_province if regency and o.regencies
                           and any(places.same_regency(regency, r, province) for r in o.regencies)]
        province_offices = [o for o in in_province if not o.regencies]
        national = [o for o in candidates if not o.provinces and not o.countries]
        order = (province_offices + national) if level == "province" else (
            regency_offices + province_offices + national)
        return order[0] if order else None


def _distinct(values: Iterable[T]) -> list[T]:
    return list(dict.fromkeys(values))


def _regency_in(text: str, provinces: list[str]) -> places.Regency:
    """The regency `text` names in one of `provinces` (short codes), else the error of the closest try."""
    found: list[places.Regency] = []
    errors: list[places.PlaceError] = []
    for province in provinces:
        try:
            found.append(places.regency(text, province))
        except places.PlaceError as exc:
            errors.append(exc)
    found = _distinct(found)
    if len(found) == 1:
        return found[0]
    if found:
        listed = ", ".join(f"{r.label} in {r.province.name}" for r in found)
        raise places.AmbiguousPlace(f"{text!r} is ambiguous: {listed}; write its full name or its code", text=text,
                                    candidates=tuple(found))
    if len(provinces) == 1:
        raise errors[0]
    # In none of several provinces: the national search names the nearest across all of them, or finds it in
    # another province, which the caller names.
    return places.regency(text)
