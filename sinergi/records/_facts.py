"""The facts of the case record: one model per kind, each with a stable id made from what identifies it.

A fact is written exactly once: its `fact_id` is derived from its own content (the case, the office, the
event id, the workflow's time of the step…), never drawn at random, so a replayed workflow or a retried
activity writing the same fact again finds it already there. Times must be the workflow's (deterministic),
not the activity's wall clock, or a retry would make a second fact.

Fields of a fact are de-identified: they name offices, rules, ids and field *names*, never a value of the
victim. What is personal — the intake, an event's data, free-text reasons — goes in `sealed`: the writer
stores it only encrypted with the case's data key, apart from the report-facing row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from sinergi.domain import places
from sinergi.domain.intake import Intake, age_at

Access = Literal["referral", "notice", "page", "decode"]
ClockChange = Literal["start", "stop", "pause", "resume", "breach", "warning", "escalation", "cancel"]


def stamp(at: datetime) -> str:
    """A time as it appears in fact ids: UTC, to the microsecond, so equal instants give equal ids."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Fact(BaseModel):
    """Base of every fact; `table` names where its row goes (None: the fact is only its sealed part)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: ClassVar[str | None]
    case_id: str = Field(min_length=3, max_length=64)
    # Personal content of this fact (a reason, an event's data): stored only sealed, never in `table`.
    sealed: dict[str, Any] | None = None

    @property
    def fact_id(self) -> str:
        raise NotImplementedError

    def row(self) -> dict[str, Any]:
        """The report-facing row: every field but `sealed`."""
        return {"fact_id": self.fact_id, **self.model_dump(exclude={"sealed"})}

    def derived(self) -> list[Fact]:
        """Facts this one implies, written with it (a page unlock is also a delivery of fields)."""
        return []


class CaseOpened(Fact):
    """A case opened; its de-identified attributes (what reports and the CTDC export group by)."""

    table: ClassVar[str | None] = "cases"
    opened_at: AwareDatetime
    year: int
    province: str
    regency_code: str | None = None
    regency_name: str | None = None
    is_child: bool
    gender: Literal["F", "M", "X"] | None = None
    age_at_intake: int | None = None
    age_is_estimate: bool = False
    citizenship: str | None = None
    country_of_exploitation: str = "ID"
    exploitation: list[str] = Field(default_factory=list)
    means_of_control: list[str] = Field(default_factory=list)
    is_pmi: bool = False
    procedural: bool | None = None
    recruiter_relation: str | None = None
    source_agency: str | None = None
    source_channel: str | None = None
    rules_version: int | None = None

    @property
    def fact_id(self) -> str:
        return self.case_id

    def row(self) -> dict[str, Any]:
        row = super().row()
        del row["fact_id"]  # the case's own id is its key
        # Until a stage fact says otherwise (`stage_changes` may also arrive first: see `_store`).
        return {**row, "stage": "identification", "stage_at": self.opened_at}

    @classmethod
    def from_intake(cls, case_id: str, intake: Intake, opened_at: datetime, *, regency_code: str | None = None,
                    rules_version: int | None = None) -> CaseOpened:
        """The opening fact of a case, its whole intake sealed (the person block only ever encrypted)."""
        person, situation = intake.person, intake.situation
        # By code and by the decree's name, for a case whose intake holds either (before regencies were codes).
        found = places.known_regency(regency_code or intake.regency, intake.province)
        return cls(
            case_id=case_id, opened_at=opened_at, year=intake.received_at.year, province=intake.province,
            regency_code=regency_code or (found.code if found else None),
            regency_name=found.name if found else intake.regency, is_child=intake.is_child,
            gender=person.sex, age_at_intake=age_at(person, intake.received_at),
            age_is_estimate=person.date_of_birth is None and person.age_estimate is not None,
            citizenship=person.nationality, country_of_exploitation=situation.location_country,
            exploitation=list(situation.exploitation), means_of_control=list(situation.means_of_control),
            is_pmi=situation.is_pmi, procedural=situation.procedural,
            recruiter_relation=situation.recruiter_relation, source_agency=intake.source.agency,
            source_channel=intake.source.channel, rules_version=rules_version,
            sealed={"intake": intake.model_dump(mode="json")},
        )


class StageChanged(Fact):
    """The case entered `stage` (`closed` closes it); the case row's stage is recomputed from these."""

    table: ClassVar[str | None] = "stage_changes"
    stage: str
    at: AwareDatetime
    seq: int = 0  # orders two changes made at the same instant (the later one has the higher seq)

    @property
    def fact_id(self) -> str:
        return f"{self.case_id}/stage/{self.stage}/{stamp(self.at)}"


class EventApplied(Fact):
    """An event the case applied: who sent it (office id or `operator:<name>`), its id, type and times; who typed
    an office's event for it (`entered_by`, `case event --as`)."""

    table: ClassVar[str | None] = "events"
    sender: str
    event_id: str
    type: str
    occurred_at: AwareDatetime
    applied_at: AwareDatetime
    entered_by: str | None = None

    @property
    def fact_id(self) -> str:
        # The event key of the case itself (`authority.applied_key`): one event per sending office and id.
        return f"{self.case_id}/event/{self.sender}/{self.event_id}"


class ReferralStep(Fact):
    """A referral reached `state` (sent, acknowledged, accepted, declined, …) at `at`, with `office`."""

    table: ClassVar[str | None] = "referral_steps"
    referral_id: str
    service: str
    kind: str
    office: str | None = None
    state: str
    at: AwareDatetime
    due_at: AwareDatetime | None = None
    mandated_by: str | None = None
    reason_code: str | None = None  # a decline's coded reason (`DeclineReason`); its words are sealed

    @property
    def fact_id(self) -> str:
        return f"{self.case_id}/referral/{self.referral_id}/{self.state}/{self.office or '-'}/{stamp(self.at)}"


class Delivery(Fact):
    """`office` received or saw these fields of the victim (names, never values) at `at`, by `how`.

    For `how="decode"`, `office` is the operator or user who decoded the case's history.
    """

    table: ClassVar[str | None] = "deliveries"
    office: str
    fields: list[str]
    at: AwareDatetime
    how: Access
    ref: str
    purpose: str | None = None
    mandated_by: str | None = None

    @property
    def fact_id(self) -> str:
        return f"{self.case_id}/delivery/{self.how}/{self.office}/{self.ref}/{stamp(self.at)}"


class PageUnlocked(Fact):
    """An office opened a referral's page with its passcode and was shown `fields`."""

    table: ClassVar[str | None] = "page_unlocks"
    referral_id: str
    office: str
    fields: list[str]
    at: AwareDatetime

    @property
    def fact_id(self) -> str:
        return f"{self.case_id}/unlock/{self.referral_id}/{self.office}/{stamp(self.at)}"

    def derived(self) -> list[Fact]:
        return [Delivery(case_id=self.case_id, office=self.office, fields=self.fields, at=self.at, how="page",
                         ref=self.referral_id, purpose="referral_page")]


class NoticeSent(Fact):
    """A notice (escalation, restriction, contact search, breach) reached an office; its text is not kept."""

    table: ClassVar[str | None] = "notices"
    notice_id: str
    purpose: str
    office: str | None = None
    kind: str | None = None
    level: str = "office"
    province: str
    regency: str | None = None
    clock: str | None = None
    source: str | None = None
    rung: int | None = None
    at: AwareDatetime

    @property
    def fact_id(self) -> str:
        return f"{self.case_id}/notice/{self.notice_id}/{self.office or self.kind or '-'}"


class ClockChanged(Fact):
    """A statutory clock started, stopped, paused, resumed, was breached or escalated (with its rung)."""

    table: ClassVar[str | None] = "clock_events"
    clock_id: str
    rule: str
    change: ClockChange
    at: AwareDatetime
    due_at: AwareDatetime | None = None
    source: str | None = None  # the law the clock comes from, as the policy cites it
    rung: int | None = None
    office: str | None = None  # responsible office, or the one escalated to
    level: str | None = None
    role: str | None = None
    context: str | None = None

    @property
    def fact_id(self) -> str:
        return f"{self.case_id}/clock/{self.clock_id}/{self.change}/{self.rung or 0}/{stamp(self.at)}"


class ManualTaskChanged(Fact):
    """A manual task for `agency` was opened or closed; its reason, free text, goes in `sealed`."""

    table: ClassVar[str | None] = "manual_tasks"
    task_id: str
    state: Literal["opened", "closed"]
    agency: str
    referral_id: str | None = None
    at: AwareDatetime

    @property
    def fact_id(self) -> str:
        return f"{self.case_id}/task/{self.task_id}/{self.state}"


# The case a decode is audited under when the request named none (the UI's list pages, a cross-origin Referer).
UNATTRIBUTED = "unattributed"


class DecodeAudited(Fact):
    """Someone decoded the case's Temporal history through the codec server: who, in which role, masked or not.

    Unmasked, it is also a delivery (`how="decode"`) of `fields`, or of every field (`*`) when none are named.
    """

    table: ClassVar[str | None] = "decode_audits"
    audit_id: str
    workflow_id: str
    who: str
    role: str
    masked: bool
    fields: list[str] = Field(default_factory=list)
    at: AwareDatetime

    @property
    def fact_id(self) -> str:
        return f"{self.case_id}/decode/{self.audit_id}"

    def derived(self) -> list[Fact]:
        if self.masked:
            return []
        return [Delivery(case_id=self.case_id, office=self.who, fields=self.fields or ["*"], at=self.at,
                         how="decode", ref=self.audit_id, purpose=self.role)]


class PersonalNote(Fact):
    """Personal content with no report-facing part (a free-text note): only its sealed form is stored."""

    table: ClassVar[str | None] = None
    item: str = Field(min_length=1, max_length=200)
    at: AwareDatetime
    sealed: dict[str, Any]

    @property
    def fact_id(self) -> str:
        return f"{self.case_id}/note/{self.item}"


FACT_KINDS: tuple[type[Fact], ...] = (
    CaseOpened, StageChanged, EventApplied, ReferralStep, Delivery, PageUnlocked, NoticeSent, ClockChanged,
    ManualTaskChanged, DecodeAudited, PersonalNote,
)
