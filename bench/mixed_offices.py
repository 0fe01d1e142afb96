"""Benchmark (run by hand): half the offices by webhook, half by e-mail and the referral page, against all by webhook.

Each run starts a Temporal dev server, `sinergi gateway` and one `sinergi worker` as processes (`sinergi.testing.
stack`), with the sandbox agencies in this process. In the mixed run every other office of the shipped agreement
(by id) answers by e-mail: the worker's real `email` adapter sends each referral to the sandbox's SMTP catcher,
and the sandbox's officer — a scripted, browser-less client posting the page's own forms — opens the link,
unlocks the page with the office's passcode and answers there; the office's service events go to the gateway
signed. The same N cases (same intakes, same seed) run once with every office by webhook. Reported: cases
closed; per service, the final states of its referrals in both runs (they must match); mails per referral to an
e-mail office (goal 1: resends only on SMTP failure); page request times (GET, unlock, answer) p50/p99 (goal:
unlock and answer p99 under 200 ms).

    .venv/bin/python bench/mixed_offices.py --cases 50 --concurrency 5 --json bench/mixed_offices.json
    .venv/bin/python bench/mixed_offices.py --cases 20 --concurrency 5 --delay 0.5   # offices at a human-ish pace
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sinergi.agencies import load_registry
from sinergi.cases import Cases
from sinergi.demo import sample_intakes
from sinergi.domain.agencies import AgencyRegistry
from sinergi.domain.ids import new_case_id
from sinergi.platform.logs import configure
from sinergi.policies import load_policy
from sinergi.sandbox import Sandbox, SandboxOptions
from sinergi.testing.stack import Stack

DUMPS = Path(tempfile.gettempdir()) / "sinergi-mixed-histories"  # the history of any case that could not answer
AGENCIES = SandboxOptions(delay=0.0, jitter=0.05, followups=1, retry_attempts=12, retry_interval=0.2,
                          retry_max_interval=2.0, wait_timeout=120.0, seed=21)


def mixed(registry: AgencyRegistry, sandbox_url: str, mail: bool) -> AgencyRegistry:
    """Every office by webhook at the sandbox; with `mail`, every other office (by id) by e-mail instead."""
    offices = {}
    for index, (oid, office) in enumerate(sorted(registry.served_at(sandbox_url, every_office=True).offices.items())):
        if mail and index % 2 == 1:
            office = office.model_copy(update={"adapter": "email", "settings": {
                "to": [f"rujukan@{oid.replace('_', '-')}.bench.invalid"],
                "passcode_env": f"SINERGI_{oid.upper()}_PASSCODE"}})
        offices[oid] = office
    return AgencyRegistry(offices=offices)


def toml_of(registry: AgencyRegistry) -> str:
    lines = []
    for oid, office in registry.offices.items():
        fields = office.model_dump(exclude={"id", "settings"})
        lines.append(f"[agencies.{oid}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
        lines.append(f"[agencies.{oid}.settings]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in office.settings.items()]
    return "\n".join(lines) + "\n"


async def one_run(n: int, mail: bool, timeout: float, concurrency: int, delay: float = 0.0) -> dict:
    root = Path(tempfile.mkdtemp(prefix="sinergi-mixed-"))
    DUMPS.mkdir(exist_ok=True)
    agencies = root / "agencies.toml"
    probe = Stack(root / "probe")  # for its free ports only
    registry = mixed(load_registry("sandbox"), f"http://127.0.0.1:{probe.sandbox_port}", mail)
    agencies.write_text(toml_of(registry), "utf-8")
    extra = f'[email]\nhost = "127.0.0.1"\nport = {probe.mail_port}\nsecurity = "none"\n'
    with Stack(root, policy="demo", agencies=str(agencies), sandbox_port=probe.sandbox_port, log_level="WARNING",
               extra_config=extra) as stack:
        stack.mail_port = probe.mail_port
        configure("WARNING", "json", stream=open(root / "bench.log", "a"))  # noqa: SIM115 - for the whole run
        stack.start_server()
        client = await stack.client()
        paced = AGENCIES.model_copy(update={"delay": delay, "jitter": max(AGENCIES.jitter, delay)})
        sandbox = Sandbox(stack.registry, paced, secrets_file=stack.secrets_file)
        sandbox.page_timings = []
        await sandbox.start(port=stack.sandbox_port)
        mailbox = await sandbox.catch_mail(stack.mail_port)
        try:
            worker = stack.start_worker()
            await stack.wait_polling(client, worker)
            stack.start_gateway()
            await stack.wait_gateway()
            cases = Cases(client, stack.task_queue, load_policy("demo"))
            started = time.monotonic()
            statuses = {}
            failed: dict[str, str] = {}
            places = asyncio.Semaphore(concurrency)  # cases in the hands of the offices at once

            async def one(intake) -> None:
                async with places:
                    case_id = new_case_id("KALSEL", intake.received_at.year)
                    await cases.open(intake, case_id=case_id)
                    while time.monotonic() - started < timeout:
                        try:
                            statuses[case_id] = await cases.status(case_id)
                        except Exception as exc:  # noqa: BLE001 - a case that cannot answer: keep its history
                            failed[case_id] = str(exc)[:300]
                            history = await cases.handle(case_id).fetch_history()
                            (DUMPS / f"{case_id}.json").write_text(history.to_json(), "utf-8")
                            shutil.copy(stack.settings.codec.keys_file, DUMPS / f"{case_id}.keys.json")
                            return
                        if statuses[case_id].stage == "closed":
                            return
                        await asyncio.sleep(0.5)

            await asyncio.gather(*(one(intake) for intake in sample_intakes(n)))
            seconds = time.monotonic() - started
        finally:
            await sandbox.stop()
    shutil.rmtree(root, ignore_errors=True)
    by_mail = {oid for oid, o in registry.offices.items() if o.adapter == "email"}
    states: Counter[str] = Counter()
    mailed_referrals = set()
    for status in statuses.values():
        for r in status.referrals:
            states[f"{r.service}: {r.status}"] += 1
            if r.agency in by_mail:
                mailed_referrals.add(r.referral_id)
    referral_mails = [m for m in mailbox.all() if "referral" in m.sinergi]
    timings: dict[str, list[float]] = {}
    for what, took in sandbox.page_timings or []:
        timings.setdefault(what, []).append(took * 1000)
    return {"mail": mail, "cases": n, "concurrency": concurrency, "delay": delay, "failed": failed,
            "closed": sum(s.stage == "closed" for s in statuses.values()),
            "seconds": round(seconds, 1), "email_offices": sorted(by_mail),
            "referrals_to_email_offices": len(mailed_referrals),
            "referral_mails": len(referral_mails),
            "mails_per_referral": round(len(referral_mails) / len(mailed_referrals), 3) if mailed_referrals else None,
            "states": dict(sorted(states.items())),
            "page": {what: {"requests": len(v), "p50_ms": round(statistics.median(v), 1),
                            "p99_ms": round(sorted(v)[min(len(v) - 1, int(len(v) * 0.99))], 1),
                            "max_ms": round(max(v), 1)} for what, v in timings.items()}}


async def main_async(args: argparse.Namespace) -> dict:
    webhook = await one_run(args.cases, False, args.timeout, args.concurrency, args.delay)
    print(json.dumps({k: v for k, v in webhook.items() if k != "states"}), flush=True)
    mixed_run = await one_run(args.cases, True, args.timeout, args.concurrency, args.delay)
    print(json.dumps({k: v for k, v in mixed_run.items() if k != "states"}), flush=True)
    same = webhook["states"] == mixed_run["states"]
    if not same:
        for key in sorted(set(webhook["states"]) | set(mixed_run["states"])):
            a, b = webhook["states"].get(key, 0), mixed_run["states"].get(key, 0)
            if a != b:
                print(f"  differs: {key}: webhook {a}, mixed {b}", flush=True)
    return {"webhook": webhook, "mixed": mixed_run, "same_final_states": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--concurrency", type=int, default=5, help="cases open at once")
    parser.add_argument("--delay", type=float, default=0.0,
                        help="seconds each office takes before each step (0: at once, saturating the machine)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = asyncio.run(main_async(args))
    print(f"same final referral states: {result['same_final_states']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), "utf-8")
    sys.stdout.flush()
    sys.exit(0 if result["same_final_states"] else 1)


if __name__ == "__main__":
    main()
