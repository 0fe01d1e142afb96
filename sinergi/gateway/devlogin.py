"""`sinergi dev` only: the secret link its banner prints, so that person's browser can decode in the Temporal UI.

The Temporal UI cannot attach the codec's bearer token, and an `Origin` header proves nothing (any local
process sets it), so the gateway never trusts a request for where it says it comes from. Instead
`sinergi dev` makes two random secrets per run: the *link key*, shown only in its banner, and the *session*.
Opening `GET /dev/ui?key=<link key>` sets the session as an HttpOnly, SameSite=Strict cookie scoped to
`/codec` and shows how to open the UI. Ports do not make another *site*, so the UI's cross-origin fetch to
the gateway carries that cookie once the browser's Codec Server setting includes cross-origin credentials
(the UI in `temporal server start-dev` has no flag for it: it is a per-browser setting, kept by the browser).
The codec endpoints then accept the cookie, from an allowed UI origin only (sinergi.gateway.codec_server).

Neither secret is written to disk, put in a URL the UI serves (its `/api/v1/settings` is readable by any
local process), or logged; each is compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from html import escape

import structlog
from aiohttp import web

from sinergi.gateway.errors import Forbidden
from sinergi.gateway.resources import SETTINGS

log = structlog.get_logger("sinergi.gateway.devlogin")

PATH = "/dev/ui"
COOKIE = "sinergi_dev_ui"
WHO = "dev-ui-session"  # how the decode log names a caller that came through the link


@dataclass(frozen=True)
class DevUiLogin:
    """The secrets of one `sinergi dev` run, and where its UI and codec are."""

    ui_url: str  # the UI page the link leads to
    codec_url: str  # the codec endpoint, to enter in the UI's Codec Server setting
    link_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    session: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    def link(self, gateway_url: str) -> str:
        """The URL the banner prints (only there)."""
        return f"{gateway_url.rstrip('/')}{PATH}?key={self.link_key}"

    def opens(self, key: str | None) -> bool:
        return _same(key, self.link_key)

    def admits(self, cookie: str | None) -> bool:
        return _same(cookie, self.session)


def _same(given: str | None, secret: str) -> bool:
    # compare_digest: the time taken must not reveal how much of the secret was right.
    return given is not None and hmac.compare_digest(given.encode(), secret.encode())


async def open_dev_ui(request: web.Request) -> web.Response:
    """`GET /dev/ui?key=...`: the right key sets the session cookie and says how to open the UI; else 403."""
    login: DevUiLogin | None = request.config_dict[SETTINGS].dev_ui_login
    if login is None or not login.opens(request.query.get("key")):
        log.warning("dev_ui_login_refused", remote=request.remote)
        raise Forbidden("this link is not (or no longer) valid: open the one `sinergi dev` printed",
                        code="dev_link_invalid")
    log.info("dev_ui_login", remote=request.remote, user_agent=request.headers.get("User-Agent", "")[:200])
    response = web.Response(text=_page(login), content_type="text/html", headers={
        "Cache-Control": "no-store",  # the page answers a secret: keep it out of caches
        "Referrer-Policy": "no-referrer",  # the link key must not leave in a Referer
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    })
    # No Max-Age: the cookie ends with the browser session, and a new `sinergi dev` has a new session anyway.
    response.set_cookie(COOKIE, login.session, path="/codec", httponly=True, samesite="Strict")
    return response


def _page(login: DevUiLogin) -> str:
    ui, codec = escape(login.ui_url), escape(login.codec_url)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sinergi dev: decode in the Temporal UI</title>
<style>body{{font-family:sans-serif;max-width:42em;margin:3em auto;line-height:1.5}}code{{background:#eee}}</style>
</head><body>
<h1>This browser may now decode payloads in the Temporal UI</h1>
<p>Once per browser, in the Temporal UI open <em>Codec Server</em> (the settings of the data encoder) and set:</p>
<ol>
<li><em>Codec Server browser endpoint</em>: <code>{codec}</code></li>
<li><em>Use my browser setting and ignore Cluster-level setting</em></li>
<li><em>Include cross-origin credentials</em> (checked)</li>
</ol>
<p>Then: <a href="{ui}">open the Temporal UI</a>. Another process on this machine, without this link or the codec
token, cannot decode.</p>
</body></html>
"""
