"""An office with e-mail only answers a referral from a browser, as a person would (issue 21): the real
e-mail adapter sends the referral to a real SMTP server on loopback, the office opens the link from the mail
in headless chromium, enters its passcode, acknowledges and accepts — and the case moves. With
SINERGI_SCREENSHOTS=1 it photographs the page for the README (docs/img/referral-page-*.png; nothing personal
is on the pages photographed).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import sys
from pathlib import Path

import pytest

from sinergi.adapters.base import AdapterContext
from sinergi.adapters.email import EmailAdapter
from sinergi.agencies import load_registry
from sinergi.gateway import devmail
from sinergi.gateway.referral_page import PasscodeLocks, ReferralPages, passcode_from_env
from sinergi.gateway.resources import TemporalLink
from sinergi.platform.config import CodecSettings, EmailSettings
from sinergi.platform.referral_tokens import ReferralTokens
from sinergi.testing.cases import SAMPLE_NAME, TEST_KEY, TEST_KEY_ID, harness
from sinergi.testing.waiting import eventually

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from gateway_kit import LEAD, GatewayKit, dev_secrets, envelope, resources_for, serve_app  # noqa: E402

OFFICE = "kbri_kuala_lumpur"  # the default test case (a PMI in Malaysia) refers protection abroad to it
PASSCODE = "7Q2M9-XKD4B"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img" if os.environ.get("SINERGI_SCREENSHOTS") else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def office_by_email(dev_env, tmp_path):
    """The gateway and a worker for the sandbox registry with KBRI Kuala Lumpur answering by e-mail."""
    mailbox, port = devmail.Mailbox(), free_port()
    catcher = await devmail.start_catcher(mailbox, "127.0.0.1", port)
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({TEST_KEY_ID: __import__("base64").b64encode(TEST_KEY).decode()}))
    registry = load_registry("sandbox")
    kbri = registry.offices[OFFICE].model_copy(update={"adapter": "email", "language": "id", "settings": {
        "to": ["pelindungan@kbri-kl.example"], "passcode_env": "TEST_KBRI_PASSCODE"}})
    registry = registry.model_copy(update={"offices": {**registry.offices, OFFICE: kbri}})
    email = EmailAdapter(AdapterContext(
        callback_base_url="https://gateway.invalid", codec=CodecSettings(key_id=TEST_KEY_ID, keys_file=keys),
        email=EmailSettings(host="127.0.0.1", port=port, security="none", **{"from": "sinergi@kalsel.example"})))
    secrets_file, secrets = dev_secrets(tmp_path)
    async with harness(dev_env.client, registry=registry, adapters={"email": email}) as h:
        pages = ReferralPages(registry=registry, tokens=ReferralTokens({TEST_KEY_ID: TEST_KEY}, TEST_KEY_ID),
                              passcode_of=passcode_from_env({"TEST_KBRI_PASSCODE": PASSCODE}),
                              form_key=b"test-form-key-0123456789abcdef01", locks=PasscodeLocks())
        resources = dataclasses.replace(resources_for(secrets_file, TemporalLink.to(h.cases),
                                                      dev_env.client.namespace), referral_pages=pages)
        async with serve_app(resources) as (client, address):
            yield GatewayKit(client, address, h, secrets), mailbox
    catcher.close()
    await catcher.wait_closed()


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
