"""Cases carried by sinergi processes while they are killed and restarted: for fault tests and `bench/faults/`.

`rescue()` starts a `Stack` (dev server on a SQLite file, `sinergi gateway`, `sinergi worker`) with the
sandbox agencies in this process at zero delay, patient enough to outlast a restart. `Rescue.open()` opens
cases through the bulk path; `wait_closed()` waits until every one has closed; `check()` compares what the
cases' histories recorded (decoded here, so no query replays a closed case on the worker) with the
sandbox's ledger and the events the agencies were answered for:

- every referral a case recorded as delivered reached its office, and no office was sent a referral
  the case does not know (a redelivery under a new key would show here);
- every event an agency was told was applied is in its case's timeline, and no event is there twice.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from sinergi.bulk import open_all, parse_lines
from sinergi.cases import Cases
from sinergi.demo import sample_intakes
from sinergi.domain.events import EventEnvelope
from sinergi.platform.codec import load_keys
from sinergi.policies import load_policy
from sinergi.sandbox import Sandbox, SandboxOptions
from sinergi.testing.stack import Stack
from sinergi.workflows.messages import APPLY_EVENT, DeliveryRequest, EventOutcome

# Zero delay; quick retries (connection errors, 5xx, 409 "not yet": the case has not recorded an earlier
# event) for about 75 s, past any restart here.
PATIENT = SandboxOptions(delay=0, jitter=0, retry_attempts=150, retry_interval=0.05, retry_max_interval=0.5,
                         wait_timeout=120, seed=11)


@dataclass
class Report:
    cases: int = 0
    closed: int = 0
    referrals: int = 0  # distinct referrals the offices received
    redelivered: int = 0  # repeats of a key the offices answered as duplicates (not re-applied)
    events: int = 0  # events the agencies were told were applied
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{self.closed}/{self.cases} cases closed; {self.referrals} referrals delivered, "
                f"{self.redelivered} repeated deliveries recognised by key; {self.events} agency events applied"
                + (f"; PROBLEMS: {self.problems[:10]}" if self.problems else ""))


class Rescue:
    def __init__(self, stack: Stack, client: Client, sandbox: Sandbox) -> None:
        self.stack, self.client, self.sandbox = stack, client, sandbox
        self.cases = Cases(client, stack.task_queue, load_policy(stack.settings.policy.file))
        self.opened: list[str] = []
        self.progress: list[tuple[float, int]] = []  # (seconds into wait_closed, cases open; -1: no answer)

    async def open(self, count: int) -> list[str]:
        """Open `count` sample cases as `sinergi case open --bulk` would."""
        text = "\n".join(intake.model_dump_json() for intake in sample_intakes(count))
        items, refused = parse_lines(text)
        assert not refused, refused
        key = load_keys(self.stack.settings.codec.keys_file)[self.stack.settings.codec.key_id]
        result = await open_all(self.cases, items, key)
        self.opened += result.opened
        return result.opened

    async def running(self) -> int:
        """Open cases, asked case by case (visibility lags and is down while the server restarts)."""
        async def one(case_id: str) -> bool:
            return (await self.cases.handle(case_id).describe()).status == WorkflowExecutionStatus.RUNNING

        return sum(await asyncio.gather(*(one(c) for c in self.opened)))

    async def wait_closed(self, timeout: float) -> float:
        """Seconds until every opened case has closed; AssertionError (with the processes' logs) if not."""
        started = time.monotonic()
        left = len(self.opened)
        while time.monotonic() - started < timeout:
            try:
                left = await self.running()
            except RuntimeError:  # the server is restarting
                left = -1
            if not self.progress or self.progress[-1][1] != left:
                self.progress.append((round(time.monotonic() - started, 1), left))
            if left == 0:
                return time.monotonic() - started
            await asyncio.sleep(0.5)
        stages = Counter()
        for case_id in self.opened:
            try:
                stages[(await self.cases.status(case_id)).stage] += 1
            except Exception as exc:  # noqa: BLE001 - a report, whatever went wrong
                stages[type(exc).__name__] += 1
        raise AssertionError(f"{left} of {len(self.opened)} cases still open after {timeout:g}s "
                             f"(stages {dict(stages)})\n{self.stack.logs()}")

    async def check(self) -> Report:
        """Compare each case's history (decoded here: no query, so no replay on the worker) with the ledger."""
        report = Report(cases=len(self.opened))
        told: dict[str, set[str]] = {}
        for case_id, event_id, *_ in (self.sandbox.player.timings if self.sandbox.player else None) or []:
            told.setdefault(case_id, set()).add(event_id)
        for case_id in self.opened:
            seen = await case_history(self.client, self.cases.handle(case_id).id)
            report.closed += seen.closed
            ledger = {e.key: e for _, e in self.sandbox.ledger.entries(kind="referral", case_id=case_id)}
            report.referrals += len(ledger)
            report.redelivered += sum(e.duplicates for e in ledger.values())
            if unknown := set(ledger) - seen.scheduled:
                report.problems.append(f"{case_id}: offices received referrals the case never sent: {unknown}")
            if missing := seen.delivered - set(ledger):
                report.problems.append(f"{case_id}: recorded as delivered, never received: {missing}")
            if many := [k for k, e in ledger.items() if e.applied != 1]:
                report.problems.append(f"{case_id}: acted on other than once: {many}")
            if twice := [r for r, n in seen.applied.items() if n > 1]:
                report.problems.append(f"{case_id}: events applied twice: {twice}")
            if lost := told.get(case_id, set()) - set(seen.applied):
                report.problems.append(f"{case_id}: agencies were told these were applied, not in the case: {lost}")
            report.events += len(told.get(case_id, ()))
        return report


@dataclass
class CaseHistory:
    closed: bool = False
    scheduled: set[str] = field(default_factory=set)  # referral ids of deliver_referral activities
    delivered: set[str] = field(default_factory=set)  # ... that completed
    applied: Counter[str] = field(default_factory=Counter)  # event id → updates that applied it (not duplicates)


async def case_history(client: Client, workflow_id: str) -> CaseHistory:
    """What a case's history (its latest run) says it sent and applied."""
    convert = client.data_converter
    seen = CaseHistory()
    referrals: dict[int, str] = {}
    updates: dict[str, str] = {}
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            if attributes.activity_type.name == "deliver_referral":
                request, = await convert.decode(attributes.input.payloads, [DeliveryRequest])
                referrals[event.event_id] = request.referral_id
                seen.scheduled.add(request.referral_id)
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            scheduled = event.activity_task_completed_event_attributes.scheduled_event_id
            if scheduled in referrals:
                seen.delivered.add(referrals[scheduled])
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if request.input.name != APPLY_EVENT:  # a referral page unlock, not an event
                continue
            envelope, = await convert.decode(request.input.args.payloads, [EventEnvelope])
            updates[request.meta.update_id] = envelope.event.event_id
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            attributes = event.workflow_execution_update_completed_event_attributes
            if attributes.outcome.HasField("success") and attributes.meta.update_id in updates:
                outcome, = await convert.decode(attributes.outcome.success.payloads, [EventOutcome])
                if not outcome.duplicate:
                    seen.applied[updates[attributes.meta.update_id]] += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            seen.closed = True
    return seen


@asynccontextmanager
async def rescue(root: Path, *, options: SandboxOptions = PATIENT, keep: bool = False) -> AsyncIterator[Rescue]:
    """A stack with one worker and a gateway, and the sandbox agencies here; everything stopped on exit."""
    stack = Stack(root, policy="demo")
    sandbox = Sandbox(stack.registry, options, secrets_file=stack.secrets_file)
    try:
        stack.start_server()
        client = await stack.client()  # `sinergi worker` exits at once if the server does not answer yet
        stack.start_gateway()
        worker = stack.start_worker()
        await sandbox.start(port=stack.sandbox_port)
        await sandbox.catch_mail(stack.mail_port)  # the e-mail offices answer on the referral page
        assert sandbox.player is not None
        sandbox.player.timings = []
        await stack.wait_gateway()
        await stack.wait_polling(client, worker)
        yield Rescue(stack, client, sandbox)
    finally:
        await sandbox.stop()
        stack.close(graceful=False)  # the state is thrown away: no need to wait for a clean shutdown
        if not keep:
            shutil.rmtree(root, ignore_errors=True)
