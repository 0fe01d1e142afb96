"""Reading a case (status, timeline, why) waits until no workflow task of it is pending.

Why: a query answered by a worker that no longer holds the case, while events wait for a workflow task,
can leave the history unreplayable (sinergi.cases.Cases._settled, bench/RESULTS.md "Queries and updates").
A case opened on a queue no worker polls keeps its first workflow task pending: a real, lasting pending
task on the real dev server.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from sinergi import cases as cases_module
from sinergi.activities.agencies import AgencyActivities
from sinergi.agencies import load_registry
from sinergi.cases import CaseBusy, Cases
from sinergi.commands.console import UNREACHABLE, UserError
from sinergi.commands.kit import run
from sinergi.policies import load_policy
from sinergi.testing.cases import intake
from sinergi.worker import build_workers, run_workers


async def test_a_read_waits_for_the_pending_workflow_task_and_says_busy_if_it_stays(dev_env, monkeypatch) -> None:
    monkeypatch.setattr(cases_module, "QUERY_SETTLE_SECONDS", 0.5)
    cases = Cases(dev_env.client, f"reads-{uuid.uuid4().hex[:8]}", load_policy("default"))
    opened = await cases.open(intake())

    # No worker yet: the case's first workflow task stays pending, and a read does not ask.
    for read in (cases.status, cases.timeline, cases.why):
        with pytest.raises(CaseBusy, match="busy"):
            await read(opened.case_id)

    # A worker comes while a read is waiting: the read answers once the task is done.
    monkeypatch.setattr(cases_module, "QUERY_SETTLE_SECONDS", 30.0)
    reading = asyncio.create_task(cases.status(opened.case_id))
    await asyncio.sleep(0.3)
    assert not reading.done()
    stop = asyncio.Event()
    activities = AgencyActivities(load_registry("sandbox"), {}, "http://127.0.0.1:9")
    workers = asyncio.create_task(run_workers(build_workers(dev_env.client, cases.task_queue, activities), stop))
    try:
        status = await asyncio.wait_for(reading, 30)
        assert status.case_id == opened.case_id and status.stage == "identification"
    finally:
        await cases.handle(opened.case_id).terminate("test over")
        stop.set()
        await workers


def test_the_cli_says_busy_with_the_way_out_and_exit_code_3() -> None:
    async def busy() -> None:
        raise CaseBusy("case X is busy applying its work; ask again in a moment")

    with pytest.raises(UserError) as raised:
        run(busy())
    assert raised.value.exit_code == UNREACHABLE == 3
    assert "run the command again" in raised.value.hint and "Temporal running" not in raised.value.hint
