"""Each recorded storyline, run on a worker that keeps no case in memory: every workflow task replays the
case's whole history first, as after an eviction, a worker restart or a query on an uncached case.

The saved histories (tests/replay) prove that old shapes replay on today's code; this proves that today's
code replays its own shape at every point of a run — activities, patch markers and updates interleaved.
It runs on the dev server (the server sinergi runs on), in real time: the storylines' waits
are shortened to a moment, so no deadline falls due.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.api.enums.v1 import EventType
from workflow_kit import case_harness

from sinergi.testing.record import SCENARIOS


class _Moment:
    """Stands in for the time-skipping environment: each of a storyline's waits lasts a moment."""

    async def sleep(self, duration: timedelta) -> None:
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_a_case_replayed_on_every_workflow_task_runs_as_when_cached(dev_env, name: str):
    async with case_harness(dev_env, max_cached_workflows=0) as h:
        async with asyncio.timeout(60):  # a non-deterministic task fails and is retried: the storyline stalls
            case_id = await SCENARIOS[name](h, _Moment())
        history = await h.cases.handle(case_id).fetch_history()
        status = await h.cases.status(case_id)

    failed = [e.workflow_task_failed_event_attributes.failure.message for e in history.events
              if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    assert failed == []
    # Offices are found by an activity of their own (PATCH_NO_LOCAL_ACTIVITIES): no local activity's marker,
    # whose result the SDK can hand the code in another task than the one that records it.
    markers = [e.marker_recorded_event_attributes.marker_name for e in history.events
               if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    assert "core_local_activity" not in markers and "core_patch" in markers
    assert any(e.activity_task_scheduled_event_attributes.activity_type.name == "route_referral"
               for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
    assert any(r.agency for r in status.referrals)
