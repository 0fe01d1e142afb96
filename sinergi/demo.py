"""`sinergi dev --demo N`: open N sample cases on the demo policy and show them moving, live.

The sandbox agencies carry each case through the whole lifecycle; this module only opens the cases and
prints a progress line per second until every case is closed (or the user stops it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import Counter
from datetime import UTC, datetime

import click

from sinergi.cases import Cases
from sinergi.commands.language import _
from sinergi.domain.case import Stage
from sinergi.domain.ids import new_case_id
from sinergi.domain.intake import Intake
from sinergi.domain.limits import STRICT

_SAMPLES = [
    # (sex, birth year, where the person is, how they came to us, regency)
    ("F", 1998, "MY", ("bp3mi", "debarkation"), "Kabupaten Banjar"),
    ("M", 1990, "ID", ("uptd_ppa", "complaint"), "Kota Banjarmasin"),
    ("F", 2010, "ID", ("uptd_ppa", "outreach"), "Kabupaten Banjar"),
    ("M", 1985, "KH", ("bp3mi", "deportation"), None),
]


def sample_intakes(count: int, now: datetime | None = None) -> list[Intake]:
    """Fictional people: demo data never resembles a real victim."""
    now = now or datetime.now(UTC)
    out = []
    for number, (sex, year, country, (agency, channel), regency) in zip(range(count), itertools.cycle(_SAMPLES),
                                                                       strict=False):
        out.append(Intake.model_validate({
            "province": "KALSEL", "regency": regency, "received_at": now.isoformat(),
            "source": {"agency": agency, "channel": channel},
            "person": {"full_name": f"Demo Person {number + 1}", "sex": sex, "date_of_birth": f"{year}-06-15",
                       "nationality": "ID"},
            "situation": {"location_country": country, "exploitation": ["forced_labour"],
                          "is_pmi": country != "ID"},
            "consent": {"services": True, "data_sharing": True, "legal": True, "recorded_by": "demo"},
        }, context=STRICT))  # as an intake file is read: the regency is kept by its code
    return out


async def run_demo(cases: Cases, count: int, stop: asyncio.Event) -> None:
    ids = []
    for intake in sample_intakes(count):
        opened = await cases.open(intake, case_id=new_case_id("KALSEL", intake.received_at.year))
        ids.append(opened.case_id)
    click.echo(_("demo: opened {count} case(s) on the demo policy: {cases}").format(count=len(ids),
                                                                                  cases=", ".join(ids)))
    started = asyncio.get_running_loop().time()
    while not stop.is_set():
        stages: Counter[str] = Counter()
        escalated = 0
        for case_id in ids:
            status = await cases.status(case_id)
            stages[status.stage] += 1
            escalated += bool(status.escalations)
        elapsed = int(asyncio.get_running_loop().time() - started)
        line = "  ".join(f"{stage.value} {stages[stage.value]}" for stage in Stage if stages[stage.value])
        click.echo(_("demo [{elapsed}s] {stages}  (escalated {escalated})").format(
            elapsed=f"{elapsed:>4}", stages=line, escalated=escalated))
        if stages[Stage.CLOSED.value] == len(ids):
            click.echo(_("demo: every case is closed. `sinergi case timeline <id>` tells each story."))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=5)
