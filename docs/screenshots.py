"""Screenshots for the README's "Offices with e-mail only": a referral e-mail as the office sees it, in Bahasa
Indonesia and English, rendered by the real `email` adapter and photographed in Debian's chromium.

    .venv/bin/python docs/screenshots.py            # writes docs/img/*.png

No personal data is in them: the mail never carries any.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sinergi.adapters.base import AdapterContext, ReferralMessage
from sinergi.adapters.email import EmailAdapter
from sinergi.agencies import load_registry
from sinergi.platform.config import CodecSettings, EmailSettings

OUT = Path(__file__).parent / "img"


def referral_html(language: str) -> str:
    keys = Path(tempfile.mkdtemp()) / "keys.json"
    keys.write_text(json.dumps({"k1": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}))
    adapter = EmailAdapter(AdapterContext(callback_base_url="https://sinergi.kalsel.example", codec=CodecSettings(
        key_id="k1", keys_file=keys), email=EmailSettings(host="smtp.example", **{"from": "sinergi@kalsel.example"})))
    office = load_registry("sandbox").offices["dinsos_kalsel"].model_copy(update={
        "adapter": "email", "language": language, "settings": {"to": ["rujukan@dinsos.kalselprov.example"]}})
    message = ReferralMessage(referral_id="KALSEL-2026-7Q2M9XKD-R007", case_id="KALSEL-2026-7Q2M9XKD",
                              service="social", stage="rehabilitation", due_by=datetime(2026, 12, 3, 0, 0, tzinfo=UTC),
                              callback_url="https://sinergi.kalsel.example/v1/agencies/dinsos_kalsel/events", data={})
    mail = adapter.referral_mail(office, message, now=datetime(2026, 11, 26, 1, 0, tzinfo=UTC))
    html = mail.get_body(preferencelist=("html",)).get_content()
    header = (f"<div style='font:13px sans-serif;color:#444;border-bottom:1px solid #ccc;padding:8px'>"
              f"<b>{mail['Subject']}</b><br>From: {mail['From']} · To: {mail['To']}</div>")
    return header + html


async def main() -> None:
    from playwright.async_api import async_playwright

    OUT.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                                   args=["--no-sandbox", "--disable-gpu"])
        page = await browser.new_page(viewport={"width": 420, "height": 760})  # a phone
        for language in ("id", "en"):
            await page.set_content(referral_html(language))
            await page.screenshot(path=str(OUT / f"email-referral-{language}.png"), full_page=True)
            print(OUT / f"email-referral-{language}.png")
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
