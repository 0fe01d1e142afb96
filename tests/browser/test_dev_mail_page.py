"""`/dev/mail` in a real browser: the caught mail's link is a link a trainer can click, under the page's
strict Content-Security-Policy (no script, no style from elsewhere)."""

from __future__ import annotations

from aiohttp import web

from sinergi.gateway import devmail


async def test_a_trainer_clicks_the_link_in_a_caught_mail(page):
    mailbox = devmail.Mailbox()
    app = web.Application()
    app[devmail.MAILBOX] = mailbox
    app.router.add_get(devmail.PATH, devmail.list_mail)
    app.router.add_get("/r/{token}", _stand_in_page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        from datetime import UTC, datetime

        mailbox.add(devmail.CaughtMail(received_at=datetime.now(UTC), sender="sinergi@localhost",
                                       recipients=("rujukan@dinsos.example.test",),
                                       subject="Rujukan kasus KALSEL-2026-X", message_id="<r1@sinergi>",
                                       text=f"Buka halaman rujukan: {base}/r/tok.en-1\n"))
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        await page.goto(base + devmail.PATH)
        assert await page.inner_text("h2") == "Rujukan kasus KALSEL-2026-X"
        await page.click(f"a[href='{base}/r/tok.en-1']")
        assert await page.inner_text("body") == "page tok.en-1"
        assert not [e for e in errors if "Content Security Policy" in e], errors
    finally:
        await runner.cleanup()


async def _stand_in_page(request: web.Request) -> web.Response:
    return web.Response(text=f"page {request.match_info['token']}")
