"""What the sandbox agencies know of each case, pooled across offices.

Real agencies keep their own files; the sandbox is one process, so its offices share what they saw.
That lets one office wait for another (the port reception waits for the departure) and lets storylines
depend on facts only another office was told (a KBRI does not receive `is_child`; the UPTD PPA does).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sinergi.domain.agencies import Office

REHABILITATION_SERVICES = ("health", "social")


@dataclass
class CaseFacts:
    case_id: str
    gateway: str | None = None
    abroad: bool = False
    child: bool = False
    sexual_exploitation: bool = False
    nationality: str | None = None
    home_regency: str | None = None
    offices: dict[str, str] = field(default_factory=dict)  # agency kind → office that was referred the case
    services: dict[str, str] = field(default_factory=dict)  # service → office it was referred to
    requested: list[str] = field(default_factory=list)  # Art. 51 services, from an accepted request
    done: set[str] = field(default_factory=set)  # event types applied, and `type:service` for service events
    claimed: set[str] = field(default_factory=set)
    # Referrals the sandbox's offices are still playing: what closes the case waits for the others to end,
    # whichever way each office answers (a webhook, or the page after its mail arrived).
    playing: set[str] = field(default_factory=set)

    def others_settled(self, referral_id: str) -> bool:
        return not (self.playing - {referral_id})

    def rehabilitation_done(self) -> bool:
        """Every health and social service requested (or referred) has completed."""
        wanted = [s for s in (self.requested or self.services) if s in REHABILITATION_SERVICES]
        return bool(wanted) and all(f"rehabilitation.service_completed:{s}" in self.done for s in wanted)

    def claim(self, token: str) -> bool:
        """True once: the first office to claim a shared step (`rehabilitation.completed`) posts it."""
        if token in self.claimed:
            return False
        self.claimed.add(token)
        return True


class Memory:
    """Facts by case id, and a way to wait until another office has done its part."""

    def __init__(self) -> None:
        self.cases: dict[str, CaseFacts] = {}
        self._changed = asyncio.Condition()

    def facts(self, case_id: str) -> CaseFacts:
        return self.cases.setdefault(case_id, CaseFacts(case_id=case_id))

    def learn(self, office: Office, body: dict[str, Any], gateway: str | None) -> CaseFacts:
        """Take in what a referral told `office` about its case."""
        facts = self.facts(body["case_id"])
        facts.gateway = gateway or facts.gateway
        data = body.get("data") or {}
        person, situation, flags = (data.get(k) or {} for k in ("person", "situation", "flags"))
        if "location_country" in situation:
            facts.abroad = situation["location_country"] != "ID"
        if body.get("service") == "protection_abroad":
            facts.abroad = True
        facts.child = facts.child or bool(data.get("is_child"))
        facts.sexual_exploitation = facts.sexual_exploitation or bool(flags.get("sexual_exploitation"))
        facts.nationality = person.get("nationality", facts.nationality)
        facts.home_regency = person.get("home_regency", facts.home_regency)
        facts.offices[office.kind] = office.id
        facts.services[body["service"]] = office.id
        if body.get("referral_id"):
            facts.playing.add(body["referral_id"])
        return facts

    async def settled(self, case_id: str, referral_id: str) -> None:
        """An office's storyline for a referral has ended (played out, or given up)."""
        self.facts(case_id).playing.discard(referral_id)
        async with self._changed:
            self._changed.notify_all()

    async def record(self, case_id: str, event_type: str, data: dict[str, Any]) -> None:
        """An event this sandbox sent was applied by the case."""
        facts = self.facts(case_id)
        facts.done.add(event_type)
        if "service" in data:
            facts.done.add(f"{event_type}:{data['service']}")
        if event_type == "rehabilitation.request_filed":
            facts.requested = list(data["services"])
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, case_id: str, ready: Callable[[CaseFacts], bool], timeout: float) -> bool:
        """Wait until `ready(facts)` holds; False after `timeout` seconds."""
        facts = self.facts(case_id)
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(lambda: ready(facts)), timeout)
        except TimeoutError:
            return False
        return True
