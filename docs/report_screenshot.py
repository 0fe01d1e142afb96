"""The screenshot of the coordination meeting's page (docs/reports.md): `report offices --format html`, in Bahasa
Indonesia, over a made-up quarter of KALSEL cases written into a scratch record, photographed in Debian's chromium.

    .venv/bin/python docs/report_screenshot.py          # writes docs/img/report-meeting-id.png

Made-up counts only: no case, person or office answer in it is real.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sinergi.domain.durations import province_zone
from sinergi.records import CaseOpened, CaseRecord, ClockChanged, ReferralStep, StageChanged, migrate
from sinergi.reports import Scope, collect
from sinergi.reports.render import render

OUT = Path(__file__).parent / "img" / "report-meeting-id.png"
REGENCIES = ("Kota Banjarmasin", "Kabupaten Banjar", "Kota Banjarbaru", "Kabupaten Tanah Laut", "Kabupaten Kotabaru")
# office, kind, hours it usually takes to acknowledge
OFFICES = (("uptd_ppa_kalsel", "uptd_ppa", 6), ("dinsos_kalsel", "dinsos", 30), ("bp3mi_kalsel", "bp3mi", 12),
           ("polda_kalsel", "polri", 20), ("dinkes_kalsel", "dinkes", 40))
LAWS = {"T1": "UU 21/2007 Art. 52(1)", "T11": "UU 12/2022 Art. 41", "T3": "UU 13/2006 Art. 29 (am. UU 31/2014)",
        "S3": "sinergi default (no statute)"}
STAGES = ("protection", "rehabilitation", "repatriation", "reintegration", "closed")


def made_up_facts(start: datetime, days: int = 90, count: int = 60) -> list:
    rnd = random.Random(7)
    facts: list = []
    for n in range(count):
        case_id = f"KALSEL-2026-DEMO{n:04d}"
        opened = start + timedelta(hours=rnd.randrange(days * 24))
        age = rnd.choice([15, 16, 19, 23, 27, 31, 36, 44])
        facts.append(CaseOpened(case_id=case_id, opened_at=opened, year=opened.year, province="KALSEL",
                                regency_name=rnd.choice(REGENCIES), is_child=age < 18, gender=rnd.choice("FFFM"),
                                age_at_intake=age, citizenship="ID",
                                country_of_exploitation=rnd.choice(["MY", "MY", "SA", "ID"]),
                                exploitation=[rnd.choice(["forced_labour", "forced_labour", "sexual_exploitation"])],
                                is_pmi=True))
        at = opened
        for stage in STAGES[:rnd.randrange(len(STAGES) + 1)]:
            at += timedelta(days=rnd.randrange(3, 25))
            facts.append(StageChanged(case_id=case_id, stage=stage, at=at))
        for r, (office, kind, usual) in enumerate(rnd.sample(OFFICES, 3)):
            sent = opened + timedelta(hours=r + 1)
            step = dict(case_id=case_id, referral_id=f"{case_id}-R{r}", service="shelter", kind=kind, office=office)
            facts.append(ReferralStep(**step, state="sent", at=sent, due_at=sent + timedelta(hours=24)))
            acked = sent + timedelta(hours=max(1, rnd.gauss(usual, usual / 3)))
            facts.append(ReferralStep(**step, state="acknowledged", at=acked, due_at=acked + timedelta(hours=48)))
            facts.append(ReferralStep(**step, state=rnd.choice(["accepted"] * 5 + ["declined"]),
                                      at=acked + timedelta(hours=rnd.randrange(4, 60))))
        for rule in rnd.sample(list(LAWS), rnd.randrange(0, 3)):
            office = rnd.choice(OFFICES)[0]
            missed = opened + timedelta(days=rnd.randrange(2, 20))
            facts.append(ClockChanged(case_id=case_id, clock_id=f"{rule}-1", rule=rule, change="warning" if rule == "S3"
                                      else "breach", at=missed, source=LAWS[rule], office=office))
            facts.append(ClockChanged(case_id=case_id, clock_id=f"{rule}-1", rule=rule, change="escalation",
                                      at=missed, source=LAWS[rule], office=office, rung=rnd.randrange(1, 4)))
    return facts


async def main() -> None:
    from playwright.async_api import async_playwright

    zone = province_zone("KALSEL")
    start, end = datetime(2026, 9, 1, tzinfo=zone), datetime(2026, 12, 1, tzinfo=zone)
    url = f"sqlite:///{tempfile.mkdtemp()}/records.db"
    migrate(url)
    record = CaseRecord.open(url)
    record.write(made_up_facts(start.astimezone(UTC)))
    committed = {office: timedelta(hours=24) for office, _, _ in OFFICES}
    page_html = render(collect(record.engine, "offices", Scope(start, end, "KALSEL", zone=zone, now=end),
                               committed=committed, meeting=True), "html", "id")
    record.close()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                   args=["--no-sandbox", "--disable-gpu"])
        page = await browser.new_page(viewport={"width": 1150, "height": 900})
        await page.set_content(page_html)
        await page.screenshot(path=str(OUT), full_page=True)
        await browser.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    asyncio.run(main())
