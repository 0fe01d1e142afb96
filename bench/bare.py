"""The engine's own limit: a bare Temporal workflow shaped like an average sinergi case.

`BareCase` does what a case does to Temporal, and nothing else: the same numbers of activities
(no-ops), updates (a counter) and timers (started, then cancelled by the next update, as a case's
deadlines are) per case, counted from real case histories by `bench/mass_rescue.py`. Default data
converter (no pydantic, no encryption), default workflow sandbox (as the case workflow has), one task
queue. `bench/mass_rescue.py` runs it in the same run as the engine and prints the ratio.

    .venv/bin/python bench/bare.py worker --address 127.0.0.1:7233 --task-queue bare   # a worker process

`drive()` (used by mass_rescue) starts the workflows, 16 at a time like `case open --bulk`, and sends
each its updates one after the other, every case at once, as agencies do.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowUpdateRPCTimeoutOrCancelledError


@dataclass
class Shape:
    """Per case: activities scheduled, updates accepted, timers started (each cancelled, or fired)."""

    activities: int
    updates: int
    timers: int
    timers_fired: int = 0


def share(total: int, moments: int, k: int) -> int:
    """How many of `total` fall at moment `k` of `moments`, spread evenly."""
    return total * (k + 1) // moments - total * k // moments


@activity.defn
async def noop(n: int) -> int:
    return n


@workflow.defn
class BareCase:
    def __init__(self) -> None:
        self.received = 0
        self.finishing = False
        self.activities: set[asyncio.Task] = set()
        self.timers: set[asyncio.Task] = set()
        self.shape = Shape(0, 0, 0)

    @workflow.run
    async def run(self, shape: Shape) -> int:
        self.shape = shape
        self._moment(0)
        await workflow.wait_condition(lambda: self.received >= shape.updates and not self.activities)
        self.finishing = True  # cancels the timers still waiting, as a closing case stops its clocks
        await workflow.wait_condition(lambda: not self.timers and workflow.all_handlers_finished())
        return self.received

    @workflow.update
    async def apply(self, n: int) -> int:
        self.received += 1
        self._moment(self.received)
        return self.received

    def _moment(self, k: int) -> None:
        """After the start (k = 0) and after each update: this moment's share of activities and timers."""
        moments = self.shape.updates + 1
        for i in range(share(self.shape.activities, moments, k)):
            self._spawn(self.activities, workflow.execute_activity(noop, i, start_to_close_timeout=timedelta(
                seconds=30)))
        fired = share(self.shape.timers_fired, moments, k)
        for i in range(share(self.shape.timers, moments, k)):
            self._spawn(self.timers, self._timer(k, fires=i < fired))

    def _spawn(self, tasks: set[asyncio.Task], coroutine) -> None:
        task = asyncio.create_task(coroutine)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def _timer(self, k: int, fires: bool) -> None:
        if fires:
            await workflow.sleep(0.001)
            return
        with contextlib.suppress(TimeoutError):  # a deadline: the next update (or the end) cancels it
            await workflow.wait_condition(lambda: self.received > k or self.finishing, timeout=3600)


@dataclass
class BareRun:
    started: float = 0.0
    ended: float = 0.0
    latencies: list[float] = field(default_factory=list)
    completed: int = 0

    @property
    def seconds(self) -> float:
        return self.ended - self.started


async def drive(client: Client, task_queue: str, shape: Shape, cases: int, concurrency: int = 16) -> BareRun:
    """Start `cases` workflows and send each its updates; returns timings once every one has completed."""
    run = BareRun(started=time.perf_counter())
    gate = asyncio.Semaphore(concurrency)
    prefix = uuid.uuid4().hex[:8]

    async def one(n: int) -> None:
        async with gate:
            handle = await client.start_workflow(BareCase.run, shape, id=f"bare-{prefix}-{n}", task_queue=task_queue)
        for u in range(shape.updates):
            sent = time.perf_counter()
            while True:  # a server too busy to answer in time: send it again under the same id, as agencies do
                try:
                    await handle.execute_update(BareCase.apply, u, id=f"u{u}")
                    break
                except WorkflowUpdateRPCTimeoutOrCancelledError:
                    await asyncio.sleep(0.5)
            run.latencies.append(time.perf_counter() - sent)
        await handle.result()
        run.completed += 1
        run.ended = max(run.ended, time.perf_counter())

    await asyncio.gather(*(one(n) for n in range(cases)))
    return run


async def serve(address: str, task_queue: str, cache: int) -> None:
    import signal

    from temporalio.worker import Worker

    client = await Client.connect(address)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Worker(client, task_queue=task_queue, workflows=[BareCase], activities=[noop],
                      max_cached_workflows=cache):
        await stop.wait()


def main(argv: list[str]) -> None:
    import argparse
    import os

    parser = argparse.ArgumentParser(description="A worker for the bare benchmark workflow.")
    parser.add_argument("command", choices=["worker"])
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--max-cached-workflows", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.address, args.task_queue, args.max_cached_workflows))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # a process that used the Temporal client can abort at interpreter exit (TEMPORAL.md)


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile in milliseconds (0 when there are fewer than two values)."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] * 1000 if len(values) > 1 else 0.0


if __name__ == "__main__":
    # The workflow must live in an importable module (the workflow sandbox re-imports it): `bare`, not `__main__`.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bare

    bare.main(sys.argv[1:])
