"""Issue 19 item 4: under `sinergi dev`, an `Origin` header decodes nothing; the link the banner prints does.

The real gateway application on an ephemeral loopback port (the runner `sinergi gateway` uses), configured as
`sinergi dev` configures it (`dev_gateway_settings`), with a real payload codec. The codec endpoints need no
Temporal, so nothing else runs.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass

import pytest
from aiohttp import ClientSession, DummyCookieJar, web
from structlog.testing import capture_logs

from sinergi.agencies import load_registry
from sinergi.devserver import _banner, dev_gateway_settings
from sinergi.gateway import Resources, TemporalLink, create_app
from sinergi.gateway.auth import Verifiers
from sinergi.gateway.devlogin import COOKIE
from sinergi.gateway.serve import gateway_runner
from sinergi.platform.config import DevSettings, GatewaySettings, Settings
from sinergi.testing.cases import sample_codec, sealed_body

TOKEN = "test-codec-token-0123456789"
UI_PORT = 18233  # not 8233: the trusted origins must follow `[dev] ui_port`
UI_ORIGIN = f"http://127.0.0.1:{UI_PORT}"
SECRET = "Siti Aminah, +62 812 0000 1111, 1999-04-01"  # what an attacker is after


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


PLAIN = {"payloads": [{"metadata": {"encoding": b64("json/plain")}, "data": b64(json.dumps(SECRET))}]}


@dataclass
class Gateway:
    client: ClientSession
    settings: Settings

    @property
    def link(self) -> str:
        login = self.settings.gateway.dev_ui_login
        return login.link("")  # the path and query of the printed link


def dev_settings(gateway: GatewaySettings | None = None) -> Settings:
    return dev_gateway_settings(Settings(gateway=gateway or GatewaySettings(), dev=DevSettings(ui_port=UI_PORT)))


async def _never_connects():
    await asyncio.Event().wait()  # the codec needs no Temporal


@asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[Gateway]:
    resources = Resources(verifiers=Verifiers(load_registry("sandbox"), lambda office: "unused"),
                          temporal=TemporalLink(_never_connects), codec=sample_codec(), codec_token=TOKEN,
                          namespace="default")
    runner = gateway_runner(create_app(settings.gateway, lambda: nullcontext(resources)))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        # A client that keeps no cookies: each test says exactly what it sends.
        async with ClientSession(base_url=f"http://{host}:{port}", cookie_jar=DummyCookieJar()) as client:
            yield Gateway(client, settings)
    finally:
        await runner.cleanup()


@pytest.fixture
async def dev():
    async with serve(dev_settings()) as gateway:
        yield gateway


@pytest.fixture
async def sealed(dev) -> dict:
    return await sealed_body(PLAIN)  # as a case's history holds it: sealed by a key holder


async def post(gateway: Gateway, action: str, body, headers: dict[str, str]):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await gateway.client.post(f"/codec/{action}", data=data,
                                     headers={"Content-Type": "application/json", **headers})


async def session_cookie(gateway: Gateway) -> str:
    response = await gateway.client.get(gateway.link, allow_redirects=False)
    assert response.status == 200, await response.text()
    return response.cookies[COOKIE].value


@pytest.mark.parametrize("origin", [UI_ORIGIN, f"http://localhost:{UI_PORT}", "http://127.0.0.1:8233"])
@pytest.mark.parametrize("action", ["decode", "encode"])
async def test_an_origin_header_alone_is_refused(dev, sealed, origin, action):
    # The attack of the review: `curl -H 'Origin: <the UI>' .../codec/decode` from any local process.
    body = sealed if action == "decode" else PLAIN
    response = await post(dev, action, body, {"Origin": origin})
    assert response.status in (401, 403), await response.text()
    assert SECRET not in await response.text()


async def test_the_origin_alone_gets_401_the_ui_can_read(dev, sealed):
    response = await post(dev, "decode", sealed, {"Origin": UI_ORIGIN})
    assert response.status == 401
    assert (await response.json())["error"] == "unauthorized"
    assert response.headers["Access-Control-Allow-Origin"] == UI_ORIGIN


async def test_the_printed_link_sets_a_strict_httponly_cookie_scoped_to_the_codec(dev):
    response = await dev.client.get(dev.link, allow_redirects=False)
    assert response.status == 200
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/codec"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = await response.text()
    assert dev.settings.gateway.dev_ui_login.ui_url in page and "Include cross-origin credentials" in page
    assert dev.settings.gateway.dev_ui_login.link_key not in page


async def test_the_browser_that_opened_the_link_decodes_from_the_ui_and_is_logged_as_dev_ui_session(dev, sealed):
    cookie = await session_cookie(dev)
    referer = f"{UI_ORIGIN}/namespaces/default/workflows/case-X1/run-1/history"
    with capture_logs() as logs:
        response = await post(dev, "decode", sealed, {"Origin": UI_ORIGIN, "Cookie": f"{COOKIE}={cookie}",
                                                      "Referer": referer, "X-Namespace": "default"})
    assert response.status == 200
    # The dev UI's session is an engineer's: the case's structure, and the victim's words masked.
    [shown] = (await response.json())["payloads"]
    assert json.loads(base64.b64decode(shown["data"])) == "•••"
    assert "Siti" not in json.dumps(await response.json())
    assert response.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    [line] = [line for line in logs if line["event"] == "codec_decode"]
    assert line["who"] == "dev-ui-session" and line["workflow_id"] == "case-X1"
    text = json.dumps(logs, default=str)
    assert SECRET not in text and cookie not in text


async def test_the_preflight_from_the_configured_ui_port_allows_credentials(dev):
    response = await dev.client.options("/codec/decode", headers={
        "Origin": UI_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-namespace"})
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    other = await dev.client.options("/codec/decode", headers={
        "Origin": "http://127.0.0.1:8233", "Access-Control-Request-Method": "POST"})
    assert other.status == 403  # the fixed default, not this UI


@pytest.mark.parametrize("headers", [
    {},  # the cookie alone, as curl would send it: no browser page asked
    {"Origin": "http://127.0.0.1:9999"},  # another local process's page: same site, so the cookie comes along
])
async def test_the_cookie_counts_only_from_a_ui_page(dev, sealed, headers):
    cookie = await session_cookie(dev)
    response = await post(dev, "decode", sealed, {"Cookie": f"{COOKIE}={cookie}", **headers})
    assert response.status in (401, 403)
    assert SECRET not in await response.text()


@pytest.mark.parametrize("key", ["", "wrong", "x" * 43])
async def test_a_wrong_link_sets_no_cookie_and_a_wrong_cookie_decodes_nothing(dev, sealed, key):
    response = await dev.client.get(f"/dev/ui?key={key}", allow_redirects=False)
    assert response.status == 403
    assert COOKIE not in response.cookies
    forged = await post(dev, "decode", sealed, {"Origin": UI_ORIGIN, "Cookie": f"{COOKIE}={key or 'x'}"})
    assert forged.status == 401


async def test_the_token_holder_still_decodes_and_is_logged_as_such(dev, sealed):
    with capture_logs() as logs:
        response = await post(dev, "decode", sealed, {"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200
    [line] = [line for line in logs if line["event"] == "codec_decode"]
    assert line["who"] == "codec-token holder"


async def test_a_gateway_off_loopback_serves_no_link():
    settings = dev_settings(GatewaySettings(host="0.0.0.0"))
    assert settings.gateway.dev_ui_login is None
    async with serve(settings) as gateway:
        response = await gateway.client.get("/dev/ui?key=anything")
        assert response.status == 404


def test_the_banner_prints_the_link_and_the_ui_on_the_configured_port(capsys):
    settings = dev_settings()
    _banner(settings, sandbox=False)
    out = capsys.readouterr().out
    assert settings.gateway.dev_ui_login.link(settings.gateway.base_url) in out
    assert f"http://127.0.0.1:{UI_PORT}/namespaces/default/workflows" in out


async def test_options_without_an_origin_is_a_plain_204_with_allow_and_no_cors(dev):
    response = await dev.client.options("/codec/decode")
    assert response.status == 204
    assert response.headers["Allow"] == "POST, OPTIONS"
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_decode_accepts_the_extra_fields_its_schema_allows(dev, sealed):
    body = {**sealed, "extra": 1,
            "payloads": [{**p, "externalPayloads": [], "note": "x"} for p in sealed["payloads"]]}
    response = await post(dev, "decode", body, {"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200, await response.text()
    # Decoded, and shown as the codec token's holder may see it: an engineer's view, the victim's words masked.
    [shown] = (await response.json())["payloads"]
    assert json.loads(base64.b64decode(shown["data"])) == "•••"


@pytest.mark.parametrize("body", [{}, {"payloads": "nope"}, {"payloads": [{"data": 5}]},
                                  {"payloads": [{"metadata": {"a": 1}}]}])
async def test_decode_refuses_what_its_schema_refuses(dev, body):
    response = await post(dev, "decode", body, {"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 400
    assert (await response.json())["error"] == "invalid_body"
