"""How the sandbox agencies behave: pace, decline and failure rates, outage windows, refusals."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

ALL_OFFICES = "*"


class Window(BaseModel):
    """An outage, in seconds after the sandbox started: `[start, end)`."""

    model_config = ConfigDict(frozen=True)

    start: float = Field(ge=0)
    end: float

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError(f"an outage window ends after it starts (got {self.start:g}-{self.end:g})")
        return self

    def covers(self, elapsed: float) -> bool:
        return self.start <= elapsed < self.end


class SandboxOptions(BaseModel):
    """Every knob of `sinergi sandbox`; the defaults carry a case through at a watchable pace."""

    model_config = ConfigDict(extra="forbid")

    delay: float = Field(default=1.0, ge=0, description="seconds before each step an agency takes")
    jitter: float = Field(default=0.5, ge=0, description="up to this many seconds added to each delay")
    answer_delay: float = Field(default=0.0, ge=0, description="seconds an office takes to answer each delivery "
                                                               "(a slow system; the request stays open)")
    decline_rate: float = Field(default=0.0, ge=0, le=1, description="share of referrals declined")
    failure_rate: float = Field(default=0.0, ge=0, le=1, description="share of deliveries answered 500")
    outages: dict[str, list[Window]] = Field(default_factory=dict, description="office (or '*') → windows")
    reject: dict[str, str] = Field(default_factory=dict, description="office → reason of a 422 to every delivery")
    retry_attempts: int = Field(default=8, ge=1, description="tries per event before an agency gives up")
    retry_interval: float = Field(default=0.5, gt=0, description="first wait between tries; doubles each time")
    retry_max_interval: float = Field(default=10.0, gt=0)
    wait_timeout: float = Field(default=120.0, gt=0, description="how long a step waits for another agency")
    followups: int = Field(default=4, ge=0, description="reintegration follow-up visits before completion")
    gateway_url: str | None = Field(default=None, description="where events go; default: the referral's "
                                                               "callback_url")
    storylines: bool = Field(default=True, description="False: receive and record only, send no events")
    people: frozenset[str] = Field(default_factory=frozenset, description="e-mail offices left to people: the "
                                   "sandbox reads their mail but never answers for them")
    seed: int | None = None


def parse_outage(text: str) -> tuple[str, Window]:
    """`OFFICE=START-END` (seconds after start; OFFICE may be `*`) → (office, window)."""
    office, sep, span = text.partition("=")
    start, dash, end = span.partition("-")
    if not (sep and dash and office.strip()):
        raise ValueError(f"expected OFFICE=START-END in seconds (e.g. dinsos_kalsel=30-90), got {text!r}")
    try:
        return office.strip(), Window(start=float(start), end=float(end))
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from exc


def parse_reject(text: str) -> tuple[str, str]:
    """`OFFICE=REASON` → (office, reason)."""
    office, sep, reason = text.partition("=")
    if not (sep and office.strip() and reason.strip()):
        raise ValueError(f"expected OFFICE=REASON (e.g. 'polda_kalsel=missing report form'), got {text!r}")
    return office.strip(), reason.strip()
