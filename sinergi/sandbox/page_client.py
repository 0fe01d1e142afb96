"""An office's officer at the referral page, without a browser: what the sandbox does for an e-mail office.

It reads the page as a person would — the link from the e-mail, the access-code form, then one answer form
per answer the page offers — and posts the same forms a browser posts (`application/x-www-form-urlencoded`
with the page's own `session` and `csrf` fields). Nothing here knows how the page builds its tokens: if the
page changes its forms, this client follows the forms it is given. Also the benchmark's client
(`bench/referral_page.py`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from html.parser import HTMLParser

import aiohttp

# The page's own answer names (sinergi.gateway.referral_page.EVENT_TYPES) for the events they become.
ANSWERS = {"referral.acknowledged": "acknowledge", "referral.accepted": "accept",
           "referral.declined": "decline", "referral.completed": "complete"}
TIMEOUT = aiohttp.ClientTimeout(total=30)


class Forms(HTMLParser):
    """Every form of a page: its fields (hidden and visible, with their values) in order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form":
            self.forms.append({})
        elif tag in ("input", "textarea", "select") and self.forms and named.get("name"):
            self.forms[-1][named["name"] or ""] = named.get("value") or ""

    def answer(self, name: str) -> dict[str, str] | None:
        return next((f for f in self.forms if f.get("answer") == name), None)


class PageRefused(Exception):
    """The page answered with an error status; `status` and the page's text say why."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {_visible_text(text)[:200]}")
        self.status = status


@dataclass
class ReferralPageClient:
    """One officer on one referral link: unlock once, answer on the forms the page gave."""

    session: aiohttp.ClientSession
    link: str  # `{public_url}/r/{token}`
    passcode: str
    # Benchmarks set a list: (what: get | unlock | answer, seconds) per request answered below 300.
    timings: list[tuple[str, float]] | None = None
    page: Forms | None = field(default=None, init=False)

    async def unlock(self) -> Forms:
        gate = await self._request("GET", self.link, what="get")
        if not gate.forms:
            raise PageRefused(200, "the page offers no access-code form")
        self.page = await self._request("POST", f"{self.link}/unlock", {**gate.forms[0], "passcode": self.passcode},
                                        what="unlock")
        return self.page

    async def answer(self, event_type: str, text: str | None = None, **chosen: str) -> Forms:
        """Post the answer that becomes `event_type` (with `chosen` fields: a decline's `reason_code`); unlocks
        first (and again once, should the form have expired). PageRefused when the page refuses it; a duplicate
        is a 200 like the first answer."""
        name = ANSWERS[event_type]
        for fresh in (False, True):
            if self.page is None or fresh:
                await self.unlock()
            assert self.page is not None
            form = self.page.answer(name)
            if form is None:
                if fresh:
                    raise PageRefused(409, f"the page does not offer {name!r} now")
                continue
            try:
                self.page = await self._request("POST", self.link, {**form, "text": text or "", **chosen},
                                                what="answer")
                return self.page
            except PageRefused as refused:
                if fresh or refused.status not in (400, 403):  # 400/403: an expired form, unlock again
                    raise
        raise AssertionError("unreachable")

    async def _request(self, method: str, url: str, form: dict[str, str] | None = None, *, what: str) -> Forms:
        started = time.perf_counter()
        async with self.session.request(method, url, data=form, timeout=TIMEOUT,
                                        allow_redirects=False) as response:
            text = await response.text()
            if response.status >= 300:
                raise PageRefused(response.status, text)
        if self.timings is not None:
            self.timings.append((what, time.perf_counter() - started))
        return Forms(text)


def _visible_text(html: str) -> str:
    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skip = 0

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.skip += tag in ("style", "script", "title")

        def handle_endtag(self, tag: str) -> None:
            self.skip -= tag in ("style", "script", "title")

        def handle_data(self, data: str) -> None:
            if not self.skip and data.strip():
                self.parts.append(data.strip())

    parser = Text()
    parser.feed(html)
    return " ".join(parser.parts)
