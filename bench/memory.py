"""Benchmark (run by hand): worker memory with many open cases waiting on their clocks.

One `sinergi worker` process against a dev server from the wheel (SQLite file in a temporary folder),
the `default` policy (deadlines of days), sandbox agencies here that take every referral and notice and
answer nothing, so every case stays open, waiting on its clocks. The cases are opened through the
`case open --bulk` path in batches; after each batch, and once the worker is idle (every delivery
made), the worker's RSS is read from /proc. Goal: <= 300 MB with 10,000 open cases.

    .venv/bin/python bench/memory.py                     # 10,000 cases (long: tens of minutes here)
    .venv/bin/python bench/memory.py --cases 300         # a smoke run

The worker keeps at most `[temporal] max_cached_workflows` cases in memory (sinergi's default, 400, was
chosen from this benchmark; `--cache` sets another); the rest are replayed from history when an event or
timer reaches them. The RSS therefore stops growing once the cache is full: the per-case growth below
that point shows what a larger cache would cost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sinergi.bulk import open_all, parse_lines
from sinergi.cases import Cases
from sinergi.demo import sample_intakes
from sinergi.platform.codec import load_keys
from sinergi.platform.logs import configure
from sinergi.policies import load_policy
from sinergi.sandbox import Sandbox, SandboxOptions
from sinergi.testing.stack import Proc, Stack

GOAL_MB = 300.0


async def idle(worker: Proc, sandbox: Sandbox, quiet: float = 5.0, timeout: float = 1800.0) -> float:
    """Wait until the worker uses almost no CPU and no message reached the agencies for `quiet` seconds."""
    started = time.monotonic()
    last = (-1.0, -1)
    calm_since = time.monotonic()
    while time.monotonic() - started < timeout:
        await asyncio.sleep(1.0)
        now = (worker.usage().cpu, sandbox.ledger.snapshot()["totals"]["attempts"])
        if now[1] != last[1] or now[0] - last[0] > 0.05:
            calm_since = time.monotonic()
        last = now
        if time.monotonic() - calm_since >= quiet:
            break
    return time.monotonic() - started


async def main(args: argparse.Namespace) -> None:
    root = Path(tempfile.mkdtemp(prefix="sinergi-memory-"))
    configure("WARNING", "json", stream=open(root / "bench.log", "a"))  # noqa: SIM115 - for the whole run
    stack = Stack(root, policy="default", log_level=args.log_level, max_cached_workflows=args.cache)
    sandbox = Sandbox(stack.registry, SandboxOptions(delay=0, jitter=0, storylines=False),
                      secrets_file=stack.secrets_file)
    try:
        stack.start_server()
        client = await stack.client()
        await sandbox.start(port=stack.sandbox_port)
        await sandbox.catch_mail(stack.mail_port)  # the e-mail offices answer on the referral page
        worker = stack.start_worker()
        await stack.wait_polling(client, worker)
        await idle(worker, sandbox, quiet=2.0)
        base = worker.usage()
        print(f"worker idle before any case: RSS {base.rss_mb:.0f} MB", flush=True)
        cases = Cases(client, stack.task_queue, load_policy("default"))
        key = load_keys(stack.settings.codec.keys_file)[stack.settings.codec.key_id]
        intakes = sample_intakes(args.cases)
        opened = 0
        started = time.monotonic()
        print(f"{'open cases':>10} {'worker RSS MB':>13} {'peak MB':>8} {'server RSS MB':>13} {'s':>6}", flush=True)
        for first in range(0, args.cases, args.batch):
            text = "\n".join(i.model_dump_json() for i in intakes[first:first + args.batch])
            items, refused = parse_lines(text)
            assert not refused, refused
            result = await open_all(cases, items, key)
            opened += len(result.opened)
            u, s = worker.usage(), stack.server.usage() if stack.server else worker.usage()
            print(f"{opened:>10} {u.rss_mb:>13.0f} {u.peak_rss_mb:>8.0f} {s.rss_mb:>13.0f} "
                  f"{time.monotonic() - started:>6.0f}", flush=True)
        waited = await idle(worker, sandbox)
        running = (await client.count_workflows(
            f"TaskQueue = '{stack.task_queue}' AND ExecutionStatus = 'Running'")).count
        u = worker.usage()
        totals = sandbox.ledger.snapshot()["totals"]
        cache = stack.settings.temporal.max_cached_workflows
        per_case = (u.rss_mb - base.rss_mb) / min(opened, cache) if opened and cache else 0.0
        verdict = "met" if u.rss_mb <= GOAL_MB else "NOT met"
        print(f"\n{running} open cases (visibility) of {opened} opened in {time.monotonic() - started:.0f}s "
              f"(idle after {waited:.0f}s more); {totals['applied']} messages delivered to the agencies")
        print(f"worker RSS {u.rss_mb:.0f} MB (peak {u.peak_rss_mb:.0f} MB; {base.rss_mb:.0f} MB before any case; "
              f"~{per_case * 1000:.0f} kB per cached case, cache {cache}); goal <= {GOAL_MB:.0f} MB: {verdict}")
    finally:
        await sandbox.stop()
        stack.close()
        if args.keep:
            print(f"state kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000, help="cases opened between two readings")
    parser.add_argument("--cache", type=int, default=None,
                        help="the worker's `[temporal] max_cached_workflows` (default: sinergi's default)")
    parser.add_argument("--log-level", default="INFO", help="of the worker process")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, SQLite file)")
    asyncio.run(main(parser.parse_args()))
    # A process that used the Temporal client can abort at interpreter exit (TEMPORAL.md).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
