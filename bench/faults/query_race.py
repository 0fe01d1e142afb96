"""Reads racing agencies' answers on workers that keep few cases in memory (run by hand; too slow and too
random for CI: about 15 s a round, and the race it looks for came in about one round in six).

Each round opens 4 cases on the dev server with the sandbox agencies answering briskly, and workers that
keep only `--cache` cases in memory (the default 400 against 10,000 open cases is the same situation at
scale). While the agencies send their events, the round reads every case's status again and again (each
read a Temporal query); at the end it replays every case's history on the current code. A history that
fails replay is a case that would stop on its next replay (a worker restart, an eviction).

    .venv/bin/python bench/faults/query_race.py --rounds 16                # reads as `Cases` makes them
    .venv/bin/python bench/faults/query_race.py --rounds 16 --unguarded    # queries asked at once

`--unguarded` skips `Cases._settled` (wait until no workflow task is pending), to show what it guards
against: the SDK answering a query on a case it rebuilt from history, with events no workflow task has
taken yet, applies them live; the next workflow task, carrying an update, records the update's
acceptance after their commands, where a replay puts it before them (bench/RESULTS.md, "Queries and
updates"). Exit code 1 if any history fails replay.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import sys
import tempfile
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

import sinergi.testing.live as live_module
from sinergi import worker as worker_module
from sinergi.cases import CaseBusy, CaseError, Cases
from sinergi.domain.ids import workflow_id
from sinergi.platform.binaries import temporal_cli
from sinergi.platform.temporal import search_attribute_flags
from sinergi.replay import replay
from sinergi.sandbox import SandboxOptions
from sinergi.testing.cases import TEST_CONVERTER
from sinergi.testing.live import LiveAgencies, live_agencies

BRISK = SandboxOptions(delay=0.02, jitter=0.02, retry_attempts=10, retry_interval=0.1, retry_max_interval=1.0,
                       wait_timeout=20.0)
CHILD = {"person": {"date_of_birth": "2012-05-01"}, "situation": {"location_country": "ID", "is_pmi": False},
         "flags": {"sexual_exploitation": True, "urgent_medical": True}}


async def one_round(env: WorkflowEnvironment, seconds: float) -> tuple[list[str], int]:
    """The round's case ids and how many reads were refused as busy."""
    busy = 0
    with tempfile.TemporaryDirectory() as tmp:
        async with live_agencies(env.client, Path(tmp), options=BRISK) as live:
            ids = [await live.open() for _ in range(3)] + [await live.open(**CHILD)]
            for case_id in ids:
                await screen(live, case_id)
            loop = asyncio.get_running_loop()
            end = loop.time() + seconds
            while loop.time() < end:
                for case_id in ids:
                    try:
                        await live.status(case_id)
                    except CaseError:
                        busy += 1
                await asyncio.sleep(0.05)
            # live_agencies terminates the cases still running as it ends: their histories stay.
    return ids, busy


async def screen(live: LiveAgencies, case_id: str) -> None:
    while True:
        try:
            status = await live.status(case_id)
            break
        except CaseBusy:
            continue
    if not any(r.service == "screening" for r in status.referrals):
        await live.send(case_id, "identification.screening_completed", source="bp3mi_kalsel",
                        outcome="presumed_victim")


async def main(args: argparse.Namespace) -> int:
    live_module.build_workers = functools.partial(worker_module.build_workers, max_cached_workflows=args.cache)
    if args.unguarded:
        async def at_once(self, handle, case_id) -> None:
            return None
        Cases._settled = at_once  # type: ignore[method-assign]
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), data_converter=TEST_CONVERTER,
        dev_server_extra_args=[*search_attribute_flags(), "--headless"])
    broken: dict[str, str] = {}
    try:
        for n in range(args.rounds):
            ids, busy = await one_round(env, args.seconds)
            histories = [await env.client.get_workflow_handle(workflow_id(c)).fetch_history() for c in ids]
            report = await replay(histories, TEST_CONVERTER)
            broken.update(report.failures)
            print(f"round {n + 1}/{args.rounds}: {len(ids)} cases, {len(report.failures)} unreplayable, "
                  f"{busy} reads answered busy", flush=True)
            for case, failure in report.failures.items():
                print(f"  {case}: {failure}", flush=True)
    finally:
        await env.shutdown()
    print(f"{'unguarded' if args.unguarded else 'guarded'} reads, cache {args.cache}: "
          f"{len(broken)} unreplayable histories in {args.rounds} rounds")
    return 1 if broken else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0, help="reading while the agencies answer")
    parser.add_argument("--cache", type=int, default=2, help="cases a worker keeps in memory")
    parser.add_argument("--unguarded", action="store_true", help="query without waiting for pending tasks")
    code = asyncio.run(main(parser.parse_args()))
    # A process that used the Temporal client can abort at interpreter exit (TEMPORAL.md).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
