"""An office with e-mail only answers a referral from a browser, as a person would (issue 21): the real
e-mail adapter sends the referral to a real SMTP server on loopback, the office opens the link from the mail
in headless chromium, enters its passcode, acknowledges and accepts — and the case moves. With
SINERGI_SCREENSHOTS=1 it photographs the page for the README (docs/img/referral-page-*.png; nothing personal
is on the pages photographed).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from sinergi.testing.cases import SAMPLE_NAME
from sinergi.testing.waiting import eventually

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from gateway_kit import EMAIL_OFFICE as OFFICE  # noqa: E402
from gateway_kit import EMAIL_PASSCODE as PASSCODE  # noqa: E402
from gateway_kit import LEAD, email_office_gateway, envelope  # noqa: E402

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" if os.environ.get("SINERGI_SCREENSHOTS") else None


@pytest.fixture
async def office_by_email(dev_env, tmp_path):
    async with email_office_gateway(dev_env.client, tmp_path) as (kit, mailbox):
        yield kit, mailbox


async def test_an_office_opens_the_mailed_link_enters_its_passcode_and_accepts(office_by_email, page):
    kit, mailbox = office_by_email
    base = f"http://{kit.address[0]}:{kit.address[1]}"
    case_id = await kit.open_case()
    assert (await kit.post(LEAD, envelope(case_id, "consent.recorded", {"scope": "services"}))).status == 202

    async def mailed():
        (mail,) = [m for m in mailbox.all() if case_id in m.subject]
        return mail
    mail = await eventually(mailed)
    assert mail.recipients == ("pelindungan@kbri-kl.example",) and SAMPLE_NAME not in mail.text
    token = re.search(r"/r/([A-Za-z0-9_.=-]+)", mail.text).group(1)

    await page.set_viewport_size({"width": 390, "height": 844})  # a phone
    await page.goto(f"{base}/r/{token}")
    assert SAMPLE_NAME not in await page.content()  # nothing personal before the passcode
    await shoot(page, "referral-page-gate-id.png")
    await page.fill("input[name=passcode]", PASSCODE)
    await page.click("button[type=submit]")
    assert SAMPLE_NAME in await page.content()  # the fields KBRI's agreement allows, after the passcode
    await page.click("form.answer:has(input[value=acknowledge]) button")
    await page.click("form.answer:has(input[value=accept]) button")
    await shoot(page, "referral-page-accepted-id.png")

    async def accepted():
        status = await kit.harness.cases.status(case_id)
        assert next(r.status for r in status.referrals if r.agency == OFFICE) == "accepted"
    await eventually(accepted)
    timeline = await kit.harness.cases.timeline(case_id)
    assert any("opened on the referral page by kbri_kuala_lumpur" in e.text for e in timeline.entries)


async def shoot(page, name: str) -> None:
    if SHOTS is not None:
        await page.screenshot(path=str(SHOTS / name), full_page=True)
