"""The agreement registry (the MoU, SPEC `agencies.toml`): offices, jurisdictions, and what each may
send and receive. Pure models; `sinergi.agencies.load_registry` reads them from a file."""

from __future__ import annotations

import fnmatch
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sinergi.domain import authority
from sinergi.domain.agency_kinds import AgencyKind
from sinergi.domain.durations import parse_seconds
from sinergi.domain.events import EVENT_TYPES, INTERNAL_EVENT_TYPES, Sender
from sinergi.domain.intake import shareable_fields


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
        regency_offices = [o for o in candidates if province in o.provinces and regency and regency in o.regencies]
        province_offices = [o for o in candidates if province in o.provinces and not o.regencies]
        national = [o for o in candidates if not o.provinces and not o.countries]
        order = (province_offices + national) if level == "province" else (
            regency_offices + province_offices + national)
        return order[0] if order else None
