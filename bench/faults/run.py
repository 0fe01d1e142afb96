"""Fault runs too long for CI (run by hand): 100 cases carried to closed while a process is killed.

Each run starts its own stack (`sinergi.testing.faults.rescue`: a dev server on a SQLite file,
`sinergi gateway`, `sinergi worker`, the sandbox agencies here at zero delay), opens the cases through
the bulk path, injects the fault, waits until every case has closed and checks each case's history
against the sandbox's ledger: every referral received once, every event the agencies were told was
applied applied once, and nothing else. Exit code 1 if any check fails.

    .venv/bin/python bench/faults/run.py --fault worker --cases 100 --kills 5     # SIGKILL at random moments
    .venv/bin/python bench/faults/run.py --fault server --cases 100               # SIGKILL + restart, same file
    .venv/bin/python bench/faults/run.py --fault gateway --cases 100 --kills 3    # SIGKILL, back after --down s
    .venv/bin/python bench/faults/run.py --fault all --seed 7                     # the three, one after another
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from sinergi.platform.logs import configure
from sinergi.testing.faults import Rescue, rescue

FAULTS = ("worker", "server", "gateway")


async def inject(live: Rescue, fault: str, down: float) -> None:
    stack = live.stack
    if fault == "worker":
        stack.workers[-1].kill(signal.SIGKILL)
        stack.start_worker()
    elif fault == "server":
        assert stack.server is not None
        stack.server.kill(signal.SIGKILL)
        await asyncio.sleep(down)
        stack.start_server()
    else:
        assert stack.gateway is not None
        stack.gateway.kill(signal.SIGKILL)
        await asyncio.sleep(down)
        stack.start_gateway()


async def one(fault: str, args: argparse.Namespace, seed: int) -> bool:
    kills = 1 if fault == "server" and args.kills is None else (args.kills or 3)
    draw = random.Random(seed)
    moments = sorted(draw.uniform(0.5, args.window) for _ in range(kills))
    root = Path(tempfile.mkdtemp(prefix=f"sinergi-fault-{fault}-"))
    configure("WARNING", "json", stream=open(root / "run.log", "a"))  # noqa: SIM115 - for the run
    try:
        return await faulted(fault, args, seed, kills, moments, root)
    finally:
        if args.keep:
            print(f"{fault}: kept {root}", flush=True)
        else:
            shutil.rmtree(root, ignore_errors=True)


async def faulted(fault: str, args: argparse.Namespace, seed: int, kills: int, moments: list[float],
                  root: Path) -> bool:
    async with rescue(root / "stack", keep=True) as live:
        started = time.monotonic()
        await live.open(args.cases)
        print(f"{fault}: opened {len(live.opened)} cases in {time.monotonic() - started:.1f}s; "
              f"{kills} fault(s) at {', '.join(f'{m:.1f}' for m in moments)}s (seed {seed})", flush=True)
        for moment in moments:
            await asyncio.sleep(max(0.0, started + moment - time.monotonic()))
            await inject(live, fault, args.down)
        try:
            took = await live.wait_closed(args.timeout)
        except AssertionError as exc:
            print(f"{fault}: FAILED: {str(exc).splitlines()[0]}", flush=True)
            return False
        report = await live.check()
        print(f"{fault}: {report}; every case closed {time.monotonic() - started:.1f}s after opening "
              f"({took:.1f}s after the last fault began); open cases over time: {live.progress}", flush=True)
        return not report.problems and report.closed == report.cases


async def main(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else random.randrange(1 << 16)
    faults = FAULTS if args.fault == "all" else (args.fault,)
    results = [await one(fault, args, seed + i) for i, fault in enumerate(faults)]
    print("all passed" if all(results) else "FAILED", flush=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fault", choices=[*FAULTS, "all"], default="all")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--kills", type=int, default=None, help="faults per run (default: 3; server: 1)")
    parser.add_argument("--window", type=float, default=30.0, help="faults fall at random in [0.5, WINDOW] s")
    parser.add_argument("--down", type=float, default=1.0, help="seconds a killed server or gateway stays down")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for every case to close")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the stack's folder (logs, SQLite file)")
    code = asyncio.run(main(parser.parse_args()))
    # A process that used the Temporal client can abort at interpreter exit (TEMPORAL.md).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
