"""Plays a storyline: posts each event to the gateway as the agency would, signed with its inbound secret.

An office that answers by e-mail (adapter `email`) gives its referral answers — acknowledge, accept, decline,
complete — on the referral page from its e-mail's link, as its officer would (`page_client`); the page offers
nothing else, so its service events still go to the gateway signed, as a trainer's stand-in for what the
office would otherwise tell its case manager by phone.

`POST {gateway}/v1/agencies/{office}/events`, `webhook-id` = `event_id` (stable across tries, so the
gateway applies a retried event once). 5xx, 429, connection errors and 409 (the case is not there yet:
another agency's event must come first) are retried a bounded number of times with doubling waits; a
409 because the case is closed, and any other 4xx, end the storyline.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import structlog

from sinergi.domain.agencies import AgencyRegistry, Office
from sinergi.platform.secrets import MissingSecret, office_secret
from sinergi.platform.signing import signed_headers
from sinergi.platform.tracing import continuing, inject_trace
from sinergi.sandbox.memory import CaseFacts, Memory
from sinergi.sandbox.options import SandboxOptions
from sinergi.sandbox.page_client import ANSWERS, PageRefused, ReferralPageClient
from sinergi.sandbox.storylines import Step, storyline

log = structlog.get_logger(__name__)
# An agency's system bounds how long it waits for the gateway's answer (30 s between reads: the gateway
# answers within its apply timeout), not how long a request waits its turn for one of its own connections:
# with `total`, a request queued behind a hundred others gave up after the gateway had started applying it,
# and was sent again (N = 500: ~18,000 such tries, each a second update for the server). The wait for a
# connection stays well under the gateway's 5-minute signature window: the request is signed before it
# (N = 1,000 with no bound: 326 storylines ended on a 401 "webhook-timestamp is more than 5 minutes old").
TIMEOUT = aiohttp.ClientTimeout(total=None, connect=120, sock_connect=5, sock_read=30)


class GaveUp(Exception):
    """The gateway refused an event for good, or kept failing past the retry budget."""


class Player:
    """Runs one task per referral; a restriction notice stops the office's tasks for that case."""

    def __init__(self, registry: AgencyRegistry, options: SandboxOptions, memory: Memory,
                 session: aiohttp.ClientSession, *, secrets_file: Path | None = None,
                 environ: dict[str, str] | None = None) -> None:
        self.registry, self.options, self.memory, self.session = registry, options, memory, session
        # Separate draws for declines and for pacing, so a seeded run declines the same referrals
        # however the steps of concurrent storylines interleave.
        seed = options.seed
        self.declines = random.Random(seed)
        self.pace = random.Random(None if seed is None else seed + 1)
        self.secrets_file, self.environ = secrets_file, environ
        self.tasks: dict[tuple[str, str], set[asyncio.Task[None]]] = {}
        # Benchmarks and fault tests set a list here: per event answered 2xx, (case id, event id, event type,
        # seconds from the answered try's request to its answer, tries). None (the default) records nothing,
        # so a long-running sandbox never grows.
        self.timings: list[tuple[str, str, str, float, int]] | None = None
        # Likewise, a Counter here counts the tries that were not answered 2xx, by what answered them
        # ("409 referral.accepted: referral … is sent, expected accepted"), ids and numbers left out.
        self.refusals: Counter[str] | None = None

    def start(self, office: Office, referral: dict[str, Any], trace: dict[str, str] | None = None,
              page: ReferralPageClient | None = None) -> None:
        """Play `office`'s storyline for `referral`; with `page`, its referral answers go through that page."""
        declined = "no capacity this week (sandbox decline)" if self.declines.random() < self.options.decline_rate \
            else None
        steps = storyline(referral["service"], referral["referral_id"], declined=declined,
                          followups=self.options.followups)
        key = (referral["case_id"], office.id)
        # The referral's trace goes back with every event of its storyline (its `traceparent`).
        task = asyncio.create_task(self._play(office, referral, steps, page), context=continuing(trace))
        self.tasks.setdefault(key, set()).add(task)
        task.add_done_callback(self.tasks[key].discard)

    def stop(self, case_id: str, office: str) -> int:
        """The office was told to restrict its use of the case's data: it stops acting on it."""
        running = list(self.tasks.get((case_id, office), ()))
        for task in running:
            task.cancel()
        return len(running)

    async def close(self) -> None:
        running = [t for tasks in self.tasks.values() for t in tasks]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _play(self, office: Office, referral: dict[str, Any], steps: list[Step],
                    page: ReferralPageClient | None = None) -> None:
        try:
            await self._steps(office, referral, steps, page)
        finally:
            await self.memory.settled(referral["case_id"], referral["referral_id"])

    async def _steps(self, office: Office, referral: dict[str, Any], steps: list[Step],
                     page: ReferralPageClient | None) -> None:
        facts = self.memory.facts(referral["case_id"])
        for index, step in enumerate(steps):
            await asyncio.sleep(self.options.delay + self.pace.uniform(0, self.options.jitter))
            if step.ready and not await self.memory.wait_until(facts.case_id, step.ready, self.options.wait_timeout):
                log.info("sandbox_step_not_ready", office=office.id, event_type=step.type, case_id=facts.case_id)
            if step.only_if and not step.only_if(facts):
                continue
            actor = self._actor(office, step, facts)
            if actor is None:
                continue
            data = step.payload(facts)
            try:
                if page is not None and actor is office and step.type in ANSWERS:
                    await self._answer_on_page(page, facts, step.type, data)
                else:
                    await self._post(actor, facts, f"sbx.{referral['referral_id']}.{index:02d}", step.type, data)
            except GaveUp as exc:
                log.warning("sandbox_storyline_ended", office=actor.id, case_id=facts.case_id,
                            event_type=step.type, reason=str(exc))
                return

    def _actor(self, office: Office, step: Step, facts: CaseFacts) -> Office | None:
        if step.actor_kind is None or step.actor_kind == office.kind:
            return office
        other = facts.offices.get(step.actor_kind)
        return self.registry.offices.get(other) if other else None

    async def _post(self, office: Office, facts: CaseFacts, event_id: str, event_type: str,
                    data: dict[str, Any]) -> None:
        if not facts.gateway:
            raise GaveUp("no gateway to send events to")
        body = json.dumps({"event_id": event_id, "case_id": facts.case_id, "type": event_type,
                           "occurred_at": datetime.now(UTC).isoformat(), "data": data}).encode()
        url = f"{facts.gateway}/v1/agencies/{office.id}/events"
        wait = self.options.retry_interval
        status, reason = 0, ""
        for attempt in range(1, self.options.retry_attempts + 1):
            if attempt > 1:
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.options.retry_max_interval)
            try:
                secret = office_secret(office, "inbound", self.environ, self.secrets_file)
            except MissingSecret as exc:
                raise GaveUp(str(exc)) from exc
            headers = inject_trace({**signed_headers(secret, event_id, body), "Content-Type": "application/json"})
            sent = time.perf_counter()
            try:
                async with self.session.post(url, data=body, headers=headers, timeout=TIMEOUT) as response:
                    status, reason = response.status, _message(await response.text())
                    # A busy gateway says when to come back (503/429 + Retry-After): never sooner.
                    wait = max(wait, _retry_after(response.headers.get("Retry-After")))
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, reason = 0, f"{type(exc).__name__}: {exc}"
                self._refused(status, event_type, type(exc).__name__)
                continue
            if status < 300:
                if self.timings is not None:
                    self.timings.append((facts.case_id, event_id, event_type, time.perf_counter() - sent, attempt))
                await self.memory.record(facts.case_id, event_type, data)
                return
            self._refused(status, event_type, reason)
            if status == 409 and "the case is closed" in reason:
                break
            if status not in (409, 429) and status < 500:
                break
        raise GaveUp(f"{event_type} → {status or 'no answer'}: {reason}")

    async def _answer_on_page(self, page: ReferralPageClient, facts: CaseFacts, event_type: str,
                              data: dict[str, Any]) -> None:
        """One answer on the referral page; a busy gateway (503) is tried again like an event."""
        wait = self.options.retry_interval
        for attempt in range(1, self.options.retry_attempts + 1):
            if attempt > 1:
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.options.retry_max_interval)
            try:
                await page.answer(event_type, data.get("reason") or data.get("note"),
                                  **({"reason_code": data["reason_code"]} if data.get("reason_code") else {}))
            except PageRefused as refused:
                self._refused(refused.status, event_type, f"page: {refused}")
                if refused.status in (429, 503) or refused.status >= 500:
                    continue
                raise GaveUp(f"{event_type} on the page → {refused}") from refused
            except (aiohttp.ClientError, TimeoutError) as exc:
                self._refused(0, event_type, type(exc).__name__)
                continue
            # Not in `timings`: the page names its own event ids (the page client times its requests).
            await self.memory.record(facts.case_id, event_type, data)
            return
        raise GaveUp(f"{event_type} on the page: no answer after {self.options.retry_attempts} tries")

    def _refused(self, status: int, event_type: str, reason: str) -> None:
        if self.refusals is not None:
            self.refusals[f"{status or 'no answer'} {event_type}: {_IDS.sub('…', reason)[:120]}"] += 1


# Words holding a digit (case, referral and event ids, counts, seconds): refusals differing only in
# them are the same refusal.
_IDS = re.compile(r"\S*\d\S*")


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header in its seconds form (what the gateway sends); 0 if absent or other."""
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0


def _message(text: str) -> str:
    """The `message` of a SPEC error body (its `details` list event types, `case.closed` among them)."""
    try:
        body = json.loads(text)
    except ValueError:
        return text[:300]
    return str(body.get("message", text))[:300] if isinstance(body, dict) else text[:300]
