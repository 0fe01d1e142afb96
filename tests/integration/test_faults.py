"""Faults, with sinergi as real processes: a Temporal dev server on a SQLite file, `sinergi gateway` and
`sinergi worker`, the sandbox agencies answering at zero delay. Cases opened through the bulk path must
all close, every referral reach its office once (the sandbox's ledger, by idempotency key) and every
agency event be applied once (the case's timeline), whatever is killed on the way.

The CI versions use 8 and 4 cases; `bench/faults/run.py` runs each fault on its own over 100 cases. The
agency outage (manual task, escalation, recovery without duplicates) is
`tests/integration/test_live_agencies.py::test_an_outage_past_the_response_time_...`.

A worker or server killed while an activity runs leaves that activity to its timeout before Temporal
retries it (an agency call: its 10 s heartbeat timeout; routing: 5 s), so those two faults share one run
(their waits overlap), within the suite's budget for fault tests.
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType, TimeoutType

from sinergi.testing.faults import PATIENT, Rescue, rescue
from sinergi.testing.waiting import eventually

CASES = 8
TIMEOUT = 90.0


async def finish(live: Rescue, started: float, label: str) -> None:
    took = await live.wait_closed(TIMEOUT)
    report = await live.check()
    print(f"\n{label}: {report} (closed {took:.1f}s after the fault, {time.monotonic() - started:.1f}s in all; "
          f"open cases over time {live.progress})")
    assert not report.problems, f"{report}\n{live.stack.logs()}"
    assert report.closed == report.cases
    assert report.referrals and report.events


def kill_worker(live: Rescue) -> None:
    live.stack.workers[-1].kill(signal.SIGKILL)
    live.stack.start_worker()


def restart_server(live: Rescue) -> None:
    assert live.stack.server is not None
    live.stack.server.kill(signal.SIGKILL)
    live.stack.start_server()


@pytest.mark.slow
async def test_a_worker_killed_at_random_moments_and_a_dev_server_killed_and_restarted_lose_nothing(
        tmp_path: Path) -> None:
    """Both faults in one run: each leaves in-flight activities to their timeouts, and the waits overlap."""
    seed = random.randrange(1 << 16)
    draw = random.Random(seed)
    faults = sorted([(draw.uniform(0.3, 3.0), "worker SIGKILL", kill_worker),
                     (draw.uniform(0.3, 3.0), "worker SIGKILL", kill_worker),
                     (draw.uniform(1.0, 3.0), "server SIGKILL + restart on its SQLite file", restart_server)],
                    key=lambda f: f[0])
    async with rescue(tmp_path / "stack") as live:
        started = time.monotonic()
        await live.open(CASES)
        for moment, _, fault in faults:
            await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
            fault(live)
        plan = ", ".join(f"{name} at {moment:.1f}s" for moment, name, _ in faults)
        await finish(live, started, f"{plan} (seed {seed})")


@pytest.mark.slow
async def test_a_gateway_killed_while_agencies_send_applies_every_event_exactly_once(tmp_path: Path) -> None:
    async with rescue(tmp_path / "stack") as live:
        started = time.monotonic()
        await live.open(4)
        await asyncio.sleep(1.5)
        assert live.stack.gateway is not None
        live.stack.gateway.kill(signal.SIGKILL)
        await asyncio.sleep(1.0)  # agencies meet connection errors meanwhile, and retry
        live.stack.start_gateway()
        await finish(live, started, "gateway SIGKILLed at 1.5s, back 1s later")


@pytest.mark.slow
async def test_a_worker_killed_during_a_slow_agency_call_is_noticed_by_its_missed_heartbeat(tmp_path: Path) -> None:
    """The call is retried once the heartbeat timeout (10 s) passes, not the whole call timeout (30 s), and
    the office acts on the referral once."""
    slow = PATIENT.model_copy(update={"answer_delay": 4.0, "storylines": False})
    async with rescue(tmp_path / "stack", options=slow) as live:
        [case_id] = await live.open(1)
        ledger = live.sandbox.ledger

        def in_flight():
            calls = [(office, entry) for office, entry in ledger.entries(kind="referral")]
            assert calls, "no referral reached an agency yet"
            return calls[0]

        office, entry = await eventually(in_flight, timeout=30)
        await asyncio.sleep(2.5)  # the call has heartbeated once; the office is still "working"
        kill_worker(live)

        def retried_and_applied_once():
            assert entry.attempts >= 2 and entry.applied == 1, entry.summary()

        await eventually(retried_and_applied_once, timeout=40)
        handle = live.client.get_workflow_handle(f"case-{case_id}")

        async def retry_recorded():
            history = await handle.fetch_history()
            scheduled = {e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
                         for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED}
            retried = [e.activity_task_started_event_attributes for e in history.events
                       if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
                       and e.activity_task_started_event_attributes.attempt > 1]
            assert retried, "the retried call has not completed yet"
            return scheduled, retried

        scheduled, retried = await eventually(retry_recorded, timeout=30)
    started = retried[0]
    assert scheduled[started.scheduled_event_id] == "deliver_referral"
    assert started.last_failure.timeout_failure_info.timeout_type == TimeoutType.TIMEOUT_TYPE_HEARTBEAT
    assert entry.applied == 1 and entry.duplicates == entry.attempts - 1
    print(f"\n{office}: {entry.attempts} calls, applied once; the retry followed a heartbeat timeout")
