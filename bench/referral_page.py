"""The referral page under a run of cases (issue 21 "Measure"): offices answering by e-mail and the page.

    .venv/bin/python bench/referral_page.py --cases 50 --concurrency 5 [--json bench/referral_page.json]

One process: a real dev server (in memory), a worker whose KBRI Kuala Lumpur office answers by e-mail (the
real `email` adapter, sending to a real aiosmtpd server on loopback), the real gateway with the referral page.
For each case: the lead office records consent (a signed gateway event), KBRI's referral is mailed; a
browser-less client reads the link from the caught mail, GETs the page, unlocks it with the passcode and
posts acknowledge then accept, as a browser posts the forms. Reported: latency of each page request (p50,
p99), mails per referral, and whether every referral answered through the page reached `accepted`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from gateway_kit import EMAIL_OFFICE as OFFICE  # noqa: E402
from gateway_kit import EMAIL_PASSCODE as PASSCODE  # noqa: E402
from gateway_kit import LEAD, GatewayKit, email_office_gateway, envelope  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from sinergi.gateway import devmail  # noqa: E402
from sinergi.platform.binaries import temporal_cli  # noqa: E402
from sinergi.platform.temporal import search_attribute_flags  # noqa: E402
from sinergi.testing.cases import TEST_CONVERTER  # noqa: E402


class Forms(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({})
        elif tag in ("input", "textarea") and self.forms and attrs.get("name"):
            self.forms[-1][attrs["name"]] = attrs.get("value", "")


async def run(cases: int, concurrency: int) -> dict:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_cli(), data_converter=TEST_CONVERTER,
                                                dev_server_extra_args=[*search_attribute_flags(), "--headless"])
    timings: dict[str, list[float]] = {"get": [], "unlock": [], "acknowledge": [], "accept": []}
    try:
        async with email_office_gateway(env.client, Path(tempfile.mkdtemp())) as (kit, mailbox):
            places = asyncio.Semaphore(concurrency)  # offices answering at once

            async def paced() -> bool:
                async with places:
                    return await one_case(kit, mailbox, timings)
            started = time.monotonic()
            opened = await asyncio.gather(*(paced() for _ in range(cases)))
            took = time.monotonic() - started
    finally:
        await env.shutdown()
    mails = [m for m in mailbox.all() if "referral." in m.message_id]
    per_referral = len(mails) / cases
    ms = {name: [round(v * 1000, 1) for v in values] for name, values in timings.items()}
    every = sorted(v for values in ms.values() for v in values)
    return {"cases": cases, "concurrency": concurrency, "seconds": round(took, 1), "accepted": sum(opened),
            "mails_per_referral": per_referral,
            "page_requests": len(every), "p50_ms": statistics.median(every),
            "p99_ms": every[min(len(every) - 1, int(len(every) * 0.99))],
            **{f"{name}_p50_ms": statistics.median(v) for name, v in ms.items()},
            **{f"{name}_max_ms": max(v) for name, v in ms.items()}}


async def one_case(kit: GatewayKit, mailbox: devmail.Mailbox, timings: dict[str, list[float]]) -> bool:
    case_id = await kit.harness.open()
    await asyncio.sleep(0.5)  # the lead office is found as the case starts
    for _ in range(40):
        if (await kit.post(LEAD, envelope(case_id, "consent.recorded", {"scope": "services"}))).status == 202:
            break
        await asyncio.sleep(0.25)
    for _ in range(200):
        mail = next((m for m in mailbox.all() if case_id in m.subject), None)
        if mail is not None:
            break
        await asyncio.sleep(0.1)
    else:
        return False
    token = re.search(r"/r/([A-Za-z0-9_.=-]+)", mail.text).group(1)

    async def timed(name: str, request) -> str:
        t = time.perf_counter()
        async with request as response:
            body = await response.text()
            assert response.status == 200, (name, response.status)
        timings[name].append(time.perf_counter() - t)
        return body

    gate = Forms(await timed("get", kit.client.get(f"/r/{token}")))
    page = Forms(await timed("unlock", kit.client.post(f"/r/{token}/unlock",
                                                       data={**gate.forms[0], "passcode": PASSCODE})))
    for answer in ("acknowledge", "accept"):
        form = next(f for f in page.forms if f.get("answer") == answer)
        page = Forms(await timed(answer, kit.client.post(f"/r/{token}", data=form)))
    for _ in range(100):
        status = await kit.harness.cases.status(case_id)
        if next(r.status for r in status.referrals if r.agency == OFFICE) == "accepted":
            return True
        await asyncio.sleep(0.1)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=5, help="cases answered at once (offices at work)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args.cases, args.concurrency))
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    sys.stdout.flush()
    import os

    os._exit(0)  # a process that used the Temporal client can abort at exit (TEMPORAL.md)


if __name__ == "__main__":
    main()
