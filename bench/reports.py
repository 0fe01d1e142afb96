"""Benchmark (run by hand): the reports over 10,000 recorded cases, on SQLite and on PostgreSQL.

Writes N made-up cases (`docs/report_screenshot.made_up_facts`: opening facts, stage changes, three referrals
each with their steps, breaches and escalations) into a fresh record of each kind — SQLite in a temporary
folder, PostgreSQL in a throwaway cluster (`sinergi.testing.postgres`) — then times each report as the CLI
builds it (`sinergi.reports.collect`, then rendering to json), best and median of R runs. Goal: under 2 s each.

    .venv/bin/python bench/reports.py --cases 10000 --runs 3 --json bench/reports.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
from report_screenshot import OFFICES, made_up_facts  # noqa: E402

from sinergi.domain.durations import province_zone  # noqa: E402
from sinergi.records import CaseRecord, migrate  # noqa: E402
from sinergi.reports import Scope, collect, ctdc  # noqa: E402
from sinergi.reports.render import render  # noqa: E402
from sinergi.testing.postgres import postgres_cluster  # noqa: E402

REPORTS = ("offices", "breaches", "cases")


def time_reports(url: str, cases: int, runs: int) -> dict:
    migrate(url)
    record = CaseRecord.open(url)
    zone = province_zone("KALSEL")
    start = datetime(2025, 1, 1, tzinfo=zone)
    days = 700
    facts = made_up_facts(start.astimezone(UTC), days=days, count=cases)
    began = time.perf_counter()
    for chunk in range(0, len(facts), 5000):
        record.write(facts[chunk:chunk + 5000])
    wrote = time.perf_counter() - began
    scope = Scope(start, start + timedelta(days=days + 60), "KALSEL", zone=zone, now=start + timedelta(days=days + 60))
    committed = {office: timedelta(hours=24) for office, _, _ in OFFICES}
    timings: dict[str, list[float]] = {}
    for _ in range(runs):
        for name in REPORTS:
            t = time.perf_counter()
            render(collect(record.engine, name, scope, committed=committed), "json", "id")
            timings.setdefault(name, []).append(time.perf_counter() - t)
        t = time.perf_counter()
        ctdc(record.engine)
        timings.setdefault("ctdc", []).append(time.perf_counter() - t)
    record.close()
    return {"recorded_cases": cases, "facts": len(facts), "write_seconds": round(wrote, 1),
            **{name: {"best_s": round(min(v), 3), "median_s": round(statistics.median(v), 3)}
               for name, v in timings.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    out = {"sqlite": time_reports(f"sqlite:///{tempfile.mkdtemp()}/records.db", args.cases, args.runs)}
    print(json.dumps({"sqlite": out["sqlite"]}), flush=True)
    with postgres_cluster() as cluster:
        out["postgresql"] = time_reports(cluster.create_database("bench_reports"), args.cases, args.runs)
    print(json.dumps({"postgresql": out["postgresql"]}), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), "utf-8")


if __name__ == "__main__":
    main()
