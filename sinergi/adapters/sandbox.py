"""The in-process `sandbox` adapter: a stand-in agency system that keeps a ledger of what it received.

It behaves like a careful agency: it acts on a referral id once, however often it is delivered, and it
can be told to be down, to refuse or to answer slowly, so the unhappy paths can be exercised on a real
workflow.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import ClassVar

from sinergi.adapters.base import AdapterContext, AgencyRejected, AgencyUnavailable, NoticeMessage, ReferralMessage
from sinergi.domain.agencies import Office


@dataclass
class Ledger:
    """Everything each office received, by idempotency key, and how many times it was attempted."""

    referrals: dict[str, dict[str, ReferralMessage]] = field(default_factory=lambda: defaultdict(dict))
    notices: dict[str, dict[str, NoticeMessage]] = field(default_factory=lambda: defaultdict(dict))
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    down: set[str] = field(default_factory=set)
    reject: dict[str, str] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)  # office -> seconds before it answers

    def received(self, office: str) -> list[ReferralMessage]:
        return list(self.referrals[office].values())

    def for_case(self, case_id: str) -> list[tuple[str, ReferralMessage]]:
        return [(office, m) for office, msgs in self.referrals.items() for m in msgs.values() if m.case_id == case_id]

    def notices_for_case(self, case_id: str) -> list[tuple[str, NoticeMessage]]:
        return [(office, m) for office, msgs in self.notices.items() for m in msgs.values() if m.case_id == case_id]


LEDGER = Ledger()


class SandboxAdapter:
    name: ClassVar[str] = "sandbox"

    def __init__(self, context: AdapterContext, ledger: Ledger | None = None) -> None:
        self.context = context
        self.ledger = ledger or LEDGER

    async def _check(self, office: Office, key: str) -> None:
        self.ledger.attempts[key] += 1
        if office.id in self.ledger.down:
            raise AgencyUnavailable(f"{office.id} is down (sandbox outage)")
        if office.id in self.ledger.reject:
            raise AgencyRejected(self.ledger.reject[office.id], status=422)
        await asyncio.sleep(self.ledger.slow.get(office.id, 0))

    async def deliver_referral(self, office: Office, message: ReferralMessage) -> None:
        await self._check(office, message.referral_id)
        self.ledger.referrals[office.id].setdefault(message.referral_id, message)

    async def deliver_notice(self, office: Office, message: NoticeMessage) -> None:
        await self._check(office, message.notice_id)
        self.ledger.notices[office.id].setdefault(message.notice_id, message)

    async def close(self) -> None:
        return None
