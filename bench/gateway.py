"""Benchmark (run by hand): events through the gateway (signed, over HTTP) vs direct `Cases.send`.

As deployed: a dev server, one `sinergi worker` and one `sinergi gateway`, each its own
process (`sinergi.testing.stack`); this process holds only the senders — an agency's HTTP client for the
gateway path, a Temporal client for the direct path — and the sandbox agencies, which receive the
referrals and send nothing (`storylines = false`). The same kind of cases for both paths (fresh cases
per round, so neither path meets longer histories than the other); the `default` policy, so no deadline
falls due while it runs; the dev server in memory by default (`--db file`: on a SQLite file, as
`sinergi dev` keeps it).

The direct path sends as `sinergi case event` does: from a process with sinergi's telemetry set up, each
update under a command span, so it carries the trace context to the case as the gateway's updates do
(the gateway is then the only difference). `--direct untraced`: updates from a client with no tracer
provider, which carry no trace context — Temporal's plain update, and the baseline of sessions 1-5.

Two measures per path:

- throughput: a closed loop of `--concurrency` senders for `--seconds`, spread over `--cases` cases;
- latency: an open loop at `--rate` events/s for `--seconds` (request sent to event applied).

CPU per event of each process (worker, gateway, server, this one) is read from /proc.

    .venv/bin/python bench/gateway.py                  # defaults: 20 cases, 16 senders, 50 ev/s, 2 rounds of 5 s
    .venv/bin/python bench/gateway.py --seconds 30 --rounds 4
    .venv/bin/python bench/gateway.py --in-process     # gateway and worker in this process, as `sinergi dev`
    .venv/bin/python bench/gateway.py --direct untraced  # the direct path without trace context
    .venv/bin/python bench/gateway.py --py-spy prof    # collapsed stacks of worker and gateway, per path

With `--py-spy DIR` (the `bench` extra; needs ptrace rights, bench/profile.md) each throughput loop is
sampled in the worker and gateway processes, one file per path, process and round
(`direct-worker-1.txt`, `gateway-gateway-1.txt`, ...): compare them with `bench/profile_summary.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from spy import record_command  # bench/, this script's folder
from temporalio.testing import WorkflowEnvironment

from sinergi.agencies import load_registry
from sinergi.cases import Cases
from sinergi.domain.events import parse_event
from sinergi.gateway import Resources, TemporalLink, create_app
from sinergi.gateway.auth import Verifiers
from sinergi.platform import telemetry
from sinergi.platform.binaries import temporal_cli
from sinergi.platform.config import GatewaySettings, Settings
from sinergi.platform.logs import configure
from sinergi.platform.secrets import new_secret, office_secret
from sinergi.platform.signing import signed_headers
from sinergi.platform.temporal import search_attribute_flags
from sinergi.policies import load_policy
from sinergi.sandbox import Sandbox, SandboxOptions
from sinergi.testing.cases import TEST_CONVERTER, harness, intake, sample_codec
from sinergi.testing.stack import Proc, Stack

OFFICE = "uptd_ppa_kalsel"  # covers the sample cases' province and may send consent.*

Send = Callable[[str], Awaitable[None]]


def envelope(case_id: str) -> dict:
    # consent.recorded is accepted in every open stage and changes nothing else: repeatable at will.
    return {"event_id": f"b-{uuid.uuid4().hex[:16]}", "case_id": case_id, "type": "consent.recorded",
            "occurred_at": datetime.now(UTC).isoformat(), "data": {"scope": "services"}}


async def closed_loop(send: Send, cases: list[str], senders: int, seconds: float) -> tuple[float, list[float]]:
    """Events/s with `senders` always busy, and their latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def sender(index: int) -> None:
        n = index
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await send(cases[n % len(cases)])
            latencies.append(time.perf_counter() - started)
            n += senders

    started = time.perf_counter()
    await asyncio.gather(*(sender(i) for i in range(senders)))
    return len(latencies) / (time.perf_counter() - started), latencies


async def open_loop(send: Send, cases: list[str], rate: float, seconds: float) -> tuple[float, list[float]]:
    """Events sent at a fixed rate whatever the replies; achieved events/s and latencies."""
    latencies: list[float] = []

    async def one(case_id: str) -> None:
        started = time.perf_counter()
        await send(case_id)
        latencies.append(time.perf_counter() - started)

    tasks = []
    start = time.perf_counter()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(one(cases[n % len(cases)])))
    await asyncio.gather(*tasks)
    return len(latencies) / (time.perf_counter() - start), latencies


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] * 1000 if len(values) > 1 else 0.0


async def open_cases(cases: Cases, count: int) -> list[str]:
    """Fresh cases, once their first referrals are delivered (no activity pending), so that work does
    not overlap the measure."""
    ids = [f"T-{uuid.uuid4().hex[:10].upper()}" for _ in range(count)]
    for case_id in ids:
        await cases.open(intake(), case_id=case_id)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        descriptions = await asyncio.gather(*(cases.handle(c).describe() for c in ids))
        if not any(d.raw_description.pending_activities for d in descriptions):
            break
        await asyncio.sleep(0.2)
    return ids


class Setup:
    """What both paths need: the cases, where the gateway listens, the office's secret, and the processes
    whose CPU is counted (none when everything runs in this process)."""

    def __init__(self, cases: Cases, url: str, secret: str, procs: dict[str, Proc]) -> None:
        self.cases, self.url, self.secret, self.procs = cases, url, secret, procs

    def cpu(self) -> dict[str, float]:
        spent = {name: proc.usage().cpu for name, proc in self.procs.items()}
        return {**spent, "bench": time.process_time()}


@asynccontextmanager
async def in_process():
    """Session 1's set-up: in-memory dev server, worker and gateway in this process, as `sinergi dev`."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), data_converter=TEST_CONVERTER,
        dev_server_extra_args=[*search_attribute_flags(), "--headless"])
    registry = load_registry("sandbox")
    secrets = {office_id: new_secret() for office_id in registry.offices}
    try:
        async with harness(env.client, registry=registry) as h:
            resources = Resources(verifiers=Verifiers(registry, lambda office: secrets[office.id]),
                                  temporal=TemporalLink.to(h.cases), codec=sample_codec(), codec_token=None,
                                  namespace=env.client.namespace)
            runner = web.AppRunner(create_app(GatewaySettings(), lambda: nullcontext(resources)), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            try:
                yield Setup(h.cases, f"http://127.0.0.1:{runner.addresses[0][1]}/v1/agencies/{OFFICE}/events",
                            secrets[OFFICE], {})
            finally:
                await runner.cleanup()
    finally:
        await env.shutdown()


@asynccontextmanager
async def as_deployed(args: argparse.Namespace):
    """A dev server (`--db`), `sinergi worker` and `sinergi gateway` as processes of their own."""
    root = Path(tempfile.mkdtemp(prefix="sinergi-bench-gateway-"))
    try:
        with Stack(root, policy="default", log_level="INFO", db=args.db) as stack:
            stack.start_server()
            client = await stack.client()
            sandbox = Sandbox(stack.registry, SandboxOptions(delay=0, jitter=0, storylines=False),
                              secrets_file=stack.secrets_file)
            await sandbox.start(port=stack.sandbox_port)
            await sandbox.catch_mail(stack.mail_port)  # the e-mail offices answer on the referral page
            try:
                worker = stack.start_worker()
                await stack.wait_polling(client, worker)
                gateway = stack.start_gateway()
                await stack.wait_gateway()
                secret = office_secret(stack.registry.offices[OFFICE], "inbound", environ={},
                                       secrets_file=stack.secrets_file)
                assert stack.server is not None
                yield Setup(Cases(client, stack.task_queue, load_policy("default")),
                            f"{stack.settings.gateway.base_url}/v1/agencies/{OFFICE}/events", secret,
                            {"worker": worker, "gateway": gateway, "server": stack.server})
            finally:
                await sandbox.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def sample(setup: Setup, folder: str | None, path: str, round_: int, seconds: float) -> list[subprocess.Popen]:
    """With --py-spy: `py-spy record` on the worker and gateway processes for the next `seconds`."""
    if not folder:
        return []
    Path(folder).mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen(record_command(proc.pid, Path(folder) / f"{path}-{name}-{round_ + 1}.txt",
                                            seconds=seconds), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, proc in setup.procs.items() if name in ("worker", "gateway")]


async def main(args: argparse.Namespace) -> None:
    configure("INFO", "json", stream=open(os.devnull, "w"))  # noqa: SIM115 - open for the whole run
    traced = args.direct == "traced"
    if traced:
        telemetry.setup(Settings(), telemetry.CLI)  # as the CLI: no exporter unless OTEL_* says so
    results: dict[tuple[str, str], list[tuple[float, list[float]]]] = {}
    cpu: dict[str, dict[str, float]] = {}
    events: dict[str, int] = {}
    stack = in_process() if args.in_process else as_deployed(args)
    async with stack as setup, aiohttp.ClientSession() as session:

        async def direct(case_id: str) -> None:
            with telemetry.command_span("sinergi case event") if traced else nullcontext():
                outcome = await setup.cases.send(parse_event(envelope(case_id)))
            assert not outcome.duplicate

        async def gateway(case_id: str) -> None:
            event = envelope(case_id)
            body = json.dumps(event).encode()
            headers = {"Content-Type": "application/json", **signed_headers(setup.secret, event["event_id"], body)}
            async with session.post(setup.url, data=body, headers=headers) as response:
                assert response.status == 202, (response.status, await response.text())

        # The path measured second runs slower (the server holds more history by then), so the
        # rounds swap the order: each path goes first as often as the other.
        paths = [("direct", direct), ("gateway", gateway)]
        for round_ in range(args.rounds):
            for name, send in paths if round_ % 2 == 0 else paths[::-1]:
                cases = await open_cases(setup.cases, args.cases)
                await closed_loop(send, cases, 4, 1.0)  # warm up: sticky caches, connections
                spies = sample(setup, args.py_spy, name, round_, args.seconds)
                before = setup.cpu()
                rate, latencies = await closed_loop(send, cases, args.concurrency, args.seconds)
                spent = setup.cpu()
                for spy in spies:
                    await asyncio.to_thread(spy.wait)
                for process, seconds in spent.items():
                    cpu.setdefault(name, {}).setdefault(process, 0.0)
                    cpu[name][process] += seconds - before[process]
                events[name] = events.get(name, 0) + len(latencies)
                results.setdefault((name, "throughput"), []).append((rate, latencies))
                results.setdefault((name, "latency"), []).append(await open_loop(send, cases, args.rate, args.seconds))
    report(results, args)
    print("CPU ms per event in the throughput loops: " + "; ".join(
        f"{name}: " + ", ".join(f"{process} {seconds * 1000 / events[name]:.2f}" for process, seconds in used.items())
        for name, used in cpu.items()))


def report(results: dict, args: argparse.Namespace) -> None:
    def merged(name: str, measure: str) -> tuple[float, list[float]]:
        runs = results[name, measure]
        return statistics.mean(rate for rate, _ in runs), [x for _, latencies in runs for x in latencies]

    where = ("worker and gateway in this process, in-memory dev server" if args.in_process else
             "worker and gateway each a process of its own, dev server " +
             ("in memory" if args.db == "memory" else "on a SQLite file"))
    print(f"\n{args.cases} cases per path and round, {args.rounds} round(s) of {args.seconds:g} s per measure, "
          f"{args.concurrency} senders, {where}, direct updates {args.direct}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'path':<8} {'max ev/s':>9} {'p50 ms':>7} {'p99 ms':>7} | at {args.rate:g} ev/s: "
          f"{'ev/s':>5} {'p50 ms':>7} {'p99 ms':>7}")
    for name in ("direct", "gateway"):
        rate, closed = merged(name, "throughput")
        achieved, opened = merged(name, "latency")
        print(f"{name:<8} {rate:>9.1f} {percentile(closed, 50):>7.1f} {percentile(closed, 99):>7.1f} | "
              f"{'':>{len(f'at {args.rate:g} ev/s: ')}}{achieved:>5.1f} {percentile(opened, 50):>7.1f} "
              f"{percentile(opened, 99):>7.1f}")
    ratio = merged("gateway", "throughput")[0] / merged("direct", "throughput")[0]
    print(f"throughput ratio gateway/direct: {ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--db", choices=["memory", "file"], default="memory",
                        help="the dev server's database (memory: the server's share of each event is smallest)")
    parser.add_argument("--in-process", action="store_true",
                        help="worker and gateway in this process on an in-memory dev server (session 1's set-up)")
    parser.add_argument("--direct", choices=["traced", "untraced"], default="traced",
                        help="traced: direct updates carry the trace context, as `sinergi case event` sends them; "
                             "untraced: Temporal's plain update (sessions 1-5)")
    parser.add_argument("--py-spy", metavar="DIR",
                        help="sample worker and gateway during each throughput loop into DIR (as processes only)")
    asyncio.run(main(parser.parse_args()))
    # A process that used the Temporal client can abort at interpreter exit (TEMPORAL.md).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
