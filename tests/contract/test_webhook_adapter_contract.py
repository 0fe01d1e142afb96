"""The adapter contract, kept by the `webhook` adapter against the HTTP sandbox agencies on loopback;
then what only HTTP has: the status mapping, timeouts, refused connections, and the wire format."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from sinergi.adapters.base import AdapterContext, AgencyRejected, AgencyUnavailable
from sinergi.adapters.webhook import WebhookAdapter
from sinergi.agencies import load_registry
from sinergi.domain.agencies import Office
from sinergi.platform.secrets import DEV_SECRETS, ensure_dev_secrets, office_secret
from sinergi.platform.signing import verify
from sinergi.sandbox import Sandbox, SandboxOptions
from sinergi.testing.contract import AdapterContract, sample_notice, sample_referral

REGISTRY = load_registry("sandbox")
OFFICE = "uptd_ppa_kalsel"


@pytest.fixture(scope="module")
def secrets_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / DEV_SECRETS
    ensure_dev_secrets(path, REGISTRY.offices.values())
    return path


@pytest.fixture(scope="module")
async def sandbox(secrets_file: Path):
    async with Sandbox(REGISTRY, SandboxOptions(storylines=False), secrets_file=secrets_file, environ={}) as s:
        yield s


@pytest.fixture(scope="module")
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def webhook(session: aiohttp.ClientSession, secrets_file: Path) -> WebhookAdapter:
    return WebhookAdapter(AdapterContext(callback_base_url="http://127.0.0.1:9", session=session,
                                         environ={"SINERGI_UNUSED": "1"}, secrets_file=secrets_file))


class HttpAgency:
    """The contract's probe over a running HTTP sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def referrals(self, office: str) -> dict[str, dict[str, Any]]:
        return self.sandbox.ledger.received(office, "referral")

    def notices(self, office: str) -> dict[str, dict[str, Any]]:
        return self.sandbox.ledger.received(office, "notice")

    def times_applied(self, office: str, key: str) -> int:
        return sum(e.applied for _, e in self.sandbox.ledger.entries(office) if e.key == key)

    def make_unavailable(self, office: str) -> None:
        self.sandbox.outage(office)

    def make_rejecting(self, office: str, reason: str) -> None:
        self.sandbox.reject(office, reason)

    def restore(self, office: str) -> None:
        self.sandbox.restore(office)
        self.sandbox.reject(office, None)


class TestWebhookAdapter(AdapterContract):
    @pytest.fixture
    def agency(self, sandbox: Sandbox) -> HttpAgency:
        return HttpAgency(sandbox)

    @pytest.fixture
    def adapter(self, webhook: WebhookAdapter) -> WebhookAdapter:
        return webhook

    @pytest.fixture
    def office(self, sandbox: Sandbox) -> Office:
        return REGISTRY.served_at(sandbox.url).offices[OFFICE]


# --- HTTP only ------------------------------------------------------------------------------------


@pytest.fixture
async def fake_agency():
    """An agency answering each request with the status and body queued in `replies`."""
    seen: list[tuple[dict[str, str], bytes]] = []
    replies: list[tuple[int, str, float]] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append((dict(request.headers), await request.read()))
        status, text, pause = replies.pop(0) if replies else (202, "{}", 0.0)
        await asyncio.sleep(pause)
        return web.Response(status=status, text=text, content_type="application/json")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield url, replies, seen
    await runner.cleanup()


def _office(base_url: str, **settings: Any) -> Office:
    return REGISTRY.offices[OFFICE].model_copy(update={"settings": {"base_url": base_url, **settings}})


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
async def test_408_429_and_5xx_are_unavailable_so_the_delivery_is_retried(webhook, fake_agency, status) -> None:
    url, replies, _ = fake_agency
    replies.append((status, json.dumps({"error": "busy", "message": "try later"}), 0.0))
    with pytest.raises(AgencyUnavailable, match=str(status)):
        await webhook.deliver_referral(_office(url), sample_referral())


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422])
async def test_other_4xx_are_rejections_carrying_the_agencys_own_reason(webhook, fake_agency, status) -> None:
    url, replies, _ = fake_agency
    replies.append((status, json.dumps({"error": "invalid", "message": "date of birth is required"}), 0.0))
    with pytest.raises(AgencyRejected) as refused:
        await webhook.deliver_referral(_office(url), sample_referral())
    assert (refused.value.reason, refused.value.status) == ("date of birth is required", status)


async def test_a_plain_text_refusal_is_passed_on_as_the_reason(webhook, fake_agency) -> None:
    url, replies, _ = fake_agency
    replies.append((422, "form B missing", 0.0))
    with pytest.raises(AgencyRejected, match="form B missing"):
        await webhook.deliver_referral(_office(url), sample_referral())


async def test_an_agency_slower_than_its_read_timeout_is_unavailable(webhook, fake_agency) -> None:
    url, replies, _ = fake_agency
    replies.append((202, "{}", 1.0))
    with pytest.raises(AgencyUnavailable, match="within"):
        await webhook.deliver_referral(_office(url, read_timeout=0.2), sample_referral())


async def test_a_refused_connection_is_unavailable(webhook) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(AgencyUnavailable, match="cannot reach"):
        await webhook.deliver_referral(_office(f"http://127.0.0.1:{port}", connect_timeout=1), sample_referral())


async def test_an_office_without_a_secret_is_unavailable_and_named(session, fake_agency, tmp_path) -> None:
    url, _, _ = fake_agency
    adapter = WebhookAdapter(AdapterContext(callback_base_url="http://x", session=session, environ={"X": "1"},
                                            secrets_file=tmp_path / "none.json"))
    with pytest.raises(AgencyUnavailable, match="SINERGI_UPTD_PPA_KALSEL_OUT"):
        await adapter.deliver_referral(_office(url), sample_referral())


async def test_the_referral_is_posted_signed_with_its_idempotency_key_in_the_spec_shape(
        webhook, fake_agency, secrets_file) -> None:
    url, _, seen = fake_agency
    message = sample_referral()
    await webhook.deliver_referral(_office(url), message)
    headers, body = seen[-1]
    assert headers["Idempotency-Key"] == headers["webhook-id"] == message.referral_id
    assert verify(office_secret(REGISTRY.offices[OFFICE], "outbound", {}, secrets_file), body, headers)
    sent = json.loads(body)
    assert {"referral_id", "case_id", "service", "stage", "due_by", "callback_url", "data"} <= set(sent)
    assert sent["data"] == message.data


def test_the_adapter_refuses_to_run_without_the_shared_session() -> None:
    with pytest.raises(ValueError, match="shared aiohttp.ClientSession"):
        WebhookAdapter(AdapterContext(callback_base_url="http://x"))


@pytest.mark.parametrize(("language", "words"), [
    ("id", ["Tenggat dalam kasus KALSEL-2026-000042 terlewati", "Tenggat: T1 (UU 21/2007 Art. 52(1))",
            "Tingkat eskalasi: 2"]),
    ("en", ["A deadline in case KALSEL-2026-000042 was missed", "Deadline: T1 (UU 21/2007 Art. 52(1))",
            "Escalation level: 2"]),
])
async def test_a_notice_is_worded_in_the_offices_language_with_the_workflows_own_text_kept(
        webhook, fake_agency, language, words) -> None:
    # SPEC "Language": notice texts in the office's language. The workflow's English (which must replay as it was
    # written) stays in `detail`; the JSON keys of a notice are all still there.
    url, _, seen = fake_agency
    english = "Statutory deadline T1 (UU 21/2007 Art. 52(1)) missed: services start after an Art. 51 request."
    notice = sample_notice(case_id="KALSEL-2026-000042", purpose="escalation", clock="T1",
                           source="UU 21/2007 Art. 52(1)", rung=2, text=english)
    await webhook.deliver_notice(_office(url).model_copy(update={"language": language}), notice)
    _, body = seen[-1]
    sent = json.loads(body)
    assert set(notice.model_dump()) <= set(sent) and sent["language"] == language
    assert (sent["notice_id"], sent["purpose"], sent["clock"], sent["rung"]) == (notice.notice_id, "escalation",
                                                                                 "T1", 2)
    assert sent["detail"] == english
    for word in words:
        assert word in sent["text"], sent["text"]
