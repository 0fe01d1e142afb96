"""The agency adapter port: how sinergi reaches an agency's own system.

Error tree (translated at this boundary, never leaked as aiohttp or library errors)::

    AdapterError
    ├── AgencyUnavailable   transient: timeouts, 408, 429, 5xx, connection refused; retried with backoff
    └── AgencyRejected      permanent: the agency refused the message (other 4xx); never retried
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from sinergi.domain.agencies import Office
from sinergi.platform.config import CodecSettings, EmailSettings


class AdapterError(Exception):
    """Base of every adapter failure."""


class AgencyUnavailable(AdapterError):
    """The agency's system cannot be reached now; trying again later may work."""


class AgencyRejected(AdapterError):
    """The agency refused the message; sending it again unchanged will not help."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class ReferralMessage(BaseModel):
    """What an office receives for a referral (SPEC "Outbound adapter protocol")."""

    referral_id: str
    case_id: str
    service: str
    stage: str
    due_by: datetime | None = None
    callback_url: str
    mandated_by: str | None = None
    data: dict[str, Any] = Field(default_factory=dict, description="only the fields the office's agreement allows")


class NoticeMessage(BaseModel):
    """An escalation or restriction notice. Carries the case id, never personal data."""

    notice_id: str
    case_id: str
    purpose: str
    text: str
    clock: str | None = None
    source: str | None = None
    rung: int | None = None


@runtime_checkable
class AgencyAdapter(Protocol):
    """One way of reaching agency systems. One instance per process serves every office using it.

    Implementations must be idempotent on `referral_id` / `notice_id`: the same message may be
    delivered again after a crash, and the agency must act on it once.
    """

    name: ClassVar[str]

    async def deliver_referral(self, office: Office, message: ReferralMessage) -> None:
        """Deliver a referral; raise AgencyUnavailable (retry) or AgencyRejected (permanent)."""
        ...

    async def deliver_notice(self, office: Office, message: NoticeMessage) -> None:
        """Deliver an escalation or restriction notice; same errors as `deliver_referral`."""
        ...

    async def close(self) -> None:
        """Release what the adapter holds (sessions, files)."""
        ...


class InboundTranslator(Protocol):
    """Optional: an adapter that turns an agency's own payload format into canonical event dicts."""

    def translate_inbound(self, office: Office, body: bytes, headers: dict[str, str]) -> list[dict[str, Any]]:
        ...


class AdapterContext(BaseModel):
    """What the composition root hands every adapter when it is created."""

    model_config = {"arbitrary_types_allowed": True}

    callback_base_url: str
    session: Any = None  # the process's one aiohttp.ClientSession
    environ: dict[str, str] = Field(default_factory=dict)
    # `sinergi dev`'s generated office secrets (`<state_dir>/agency-secrets.json`); env vars win over it.
    secrets_file: Path | None = None
    # The `email` adapter: the SMTP relay (`[email]`), and the codec keys its referral-page links are signed with.
    email: EmailSettings | None = None
    codec: CodecSettings | None = None
