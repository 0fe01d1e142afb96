"""A real gateway on loopback in front of the real dev server, and what its tests share.

`gateway_for(dev_env)` starts workers on a fresh task queue (`harness`), the gateway on an ephemeral
loopback port (the runner `sinergi gateway` uses), and hands back a `GatewayKit` that signs and posts events as
any office, and counts a case's history events to prove refused requests changed nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import ClientResponse, ClientSession, web

from sinergi.agencies import load_registry
from sinergi.gateway import Resources, TemporalLink, create_app
from sinergi.gateway.auth import Verifiers
from sinergi.gateway.serve import gateway_runner
from sinergi.platform.config import GatewaySettings
from sinergi.platform.secrets import ensure_dev_secrets, new_secret, office_secret
from sinergi.platform.signing import signed_headers
from sinergi.testing.cases import Harness, harness, sample_codec

CODEC_TOKEN = "test-codec-token-0123456789"
UI_ORIGIN = "http://localhost:8233"
TEST_SETTINGS = GatewaySettings(max_body_bytes=4096, read_timeout_seconds=0.5, apply_timeout_seconds=10)

# Offices of the sandbox registry, by their relation to a default test case (KALSEL, Kabupaten Banjar,
# a PMI back from Malaysia: referred to kbri_kuala_lumpur).
LEAD = "bp3mi_kalsel"  # registered the intake and screens it: the case's lead office; may send consent.*
PROVINCE_OFFICE = "uptd_ppa_kalsel"  # covers the whole province, but the case sent it nothing: not a party
POLICE = "polda_kalsel"  # part of the case, but may not send consent.*
OTHER_PROVINCE = "uptd_ppa_jatim"  # may send consent.*, but covers JATIM only
OTHER_REGENCY = "uptd_ppa_banjarmasin"  # covers Kota Banjarmasin only
REFERRED_ABROAD = "kbri_kuala_lumpur"  # covers no province; part of the case by referral


def envelope(case_id: str, type_: str, data: dict[str, Any] | None = None, event_id: str | None = None,
             **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id or f"gw-{uuid.uuid4().hex[:16]}", "case_id": case_id, "type": type_,
            "occurred_at": datetime.now(UTC).isoformat(), "data": data or {}, **extra}


class GatewayKit:
    """The running gateway, its harness and the offices' secrets."""

    def __init__(self, client: ClientSession, address: tuple[str, int], harness: Harness | None,
                 secrets: dict[str, str]) -> None:
        self.client = client
        self.address = address
        self.harness = harness
        self.secrets = secrets

    def sign(self, office: str, body: bytes, msg_id: str, *, secret_of: str | None = None,
             at: datetime | None = None) -> dict[str, str]:
        secret = self.secrets.get(secret_of or office) or new_secret()
        return signed_headers(secret, msg_id, body, now=at)

    async def post(self, office: str, event: dict[str, Any] | bytes, *, msg_id: str | None = None,
                   secret_of: str | None = None, at: datetime | None = None,
                   content_type: str = "application/json", headers: dict[str, str] | None = None,
                   signed: bool = True) -> ClientResponse:
        """POST an event as `office`, signed with `secret_of`'s secret (default: the office's own)."""
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        if msg_id is None:
            msg_id = event["event_id"] if isinstance(event, dict) else "msg-" + uuid.uuid4().hex
        sent = {"Content-Type": content_type} if content_type else {}
        if signed:
            sent.update(self.sign(office, body, msg_id, secret_of=secret_of, at=at))
        sent.update(headers or {})
        return await self.client.post(f"/v1/agencies/{office}/events", data=body, headers=sent)

    async def open_case(self) -> str:
        case_id = await self.harness.open()
        await self.settle(case_id)
        return case_id

    async def history_length(self, case_id: str) -> int:
        handle = self.harness.cases.handle(case_id)
        return len([e async for e in handle.fetch_history_events()])

    async def settle(self, case_id: str, quiet: float = 0.3, timeout: float = 15.0) -> int:
        """Wait until the case's history stops growing and no activity is pending; its length then."""
        handle = self.harness.cases.handle(case_id)
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            length = await self.history_length(case_id)
            pending = (await handle.describe()).raw_description.pending_activities
            if length != last or pending:
                last, since = length, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return length
            await asyncio.sleep(0.05)
        raise AssertionError(f"case {case_id} did not settle within {timeout} s")


async def ready_answer(client: ClientSession, within: float = 30.0) -> ClientResponse:
    """`/readyz`, asked again each second until 200 or `within` seconds: on CI's loaded two cores one health check
    once outlasted its 2 s deadline (`temporal: false`), which a load balancer would simply ask again."""
    deadline = time.monotonic() + within
    ready = await client.get("/readyz")
    while ready.status != 200 and time.monotonic() < deadline:
        await asyncio.sleep(1)
        ready = await client.get("/readyz")
    return ready


def dev_secrets(folder: Path) -> tuple[Path, dict[str, str]]:
    """A dev secrets file for the sandbox registry's offices, and the inbound secrets it holds."""
    registry = load_registry("sandbox")
    path = folder / "agency-secrets.json"
    ensure_dev_secrets(path, registry.offices.values())
    return path, {o.id: office_secret(o, "inbound", environ={}, secrets_file=path) for o in registry.offices.values()}


@asynccontextmanager
async def serve_app(resources: Resources, settings: GatewaySettings = TEST_SETTINGS
                    ) -> AsyncIterator[tuple[ClientSession, tuple[str, int]]]:
    """The gateway on an ephemeral loopback port, run as `sinergi gateway` runs it; a session bound to it."""
    runner = gateway_runner(create_app(settings, lambda: nullcontext(resources)))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        async with ClientSession(base_url=f"http://{host}:{port}") as session:
            yield session, (host, port)
    finally:
        await runner.cleanup()


def resources_for(secrets_file: Path, link: TemporalLink, namespace: str = "default") -> Resources:
    registry = load_registry("sandbox")
    return Resources(
        verifiers=Verifiers(registry, lambda office: office_secret(office, "inbound", environ={},
                                                                   secrets_file=secrets_file)),
        temporal=link, codec=sample_codec(), codec_token=CODEC_TOKEN, namespace=namespace)


@asynccontextmanager
async def gateway_for(dev_env, folder: Path, settings: GatewaySettings = TEST_SETTINGS) -> AsyncIterator[GatewayKit]:
    secrets_file, secrets = dev_secrets(folder)
    async with harness(dev_env.client) as h:
        resources = resources_for(secrets_file, TemporalLink.to(h.cases), dev_env.client.namespace)
        async with serve_app(resources, settings) as (client, address):
            yield GatewayKit(client, address, h, secrets)


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


EMAIL_OFFICE = "kbri_kuala_lumpur"  # the default test case (a PMI in Malaysia) refers protection abroad to it
EMAIL_PASSCODE = "7Q2M9-XKD4B"


@asynccontextmanager
async def email_office_gateway(client, folder: Path) -> AsyncIterator[tuple[GatewayKit, Any]]:
    """The gateway with the referral page and a worker for the sandbox registry, KBRI Kuala Lumpur answering by
    e-mail: the real `email` adapter sends to a real SMTP catcher on loopback. Yields the kit and the mailbox."""
    import base64

    from sinergi.adapters.base import AdapterContext
    from sinergi.adapters.email import EmailAdapter
    from sinergi.gateway import devmail
    from sinergi.gateway.referral_page import PasscodeLocks, ReferralPages, passcode_from_env
    from sinergi.platform.config import CodecSettings, EmailSettings
    from sinergi.platform.referral_tokens import ReferralTokens
    from sinergi.testing.cases import TEST_KEY, TEST_KEY_ID

    mailbox = devmail.Mailbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    catcher = await devmail.start_catcher(mailbox, "127.0.0.1", port)
    keys = folder / "keys.json"
    keys.write_text(json.dumps({TEST_KEY_ID: base64.b64encode(TEST_KEY).decode()}))
    registry = load_registry("sandbox")
    office = registry.offices[EMAIL_OFFICE].model_copy(update={"adapter": "email", "language": "id", "settings": {
        "to": ["pelindungan@kbri-kl.example"], "passcode_env": "TEST_EMAIL_PASSCODE"}})
    registry = registry.model_copy(update={"offices": {**registry.offices, EMAIL_OFFICE: office}})
    email = EmailAdapter(AdapterContext(
        callback_base_url="https://gateway.invalid", codec=CodecSettings(key_id=TEST_KEY_ID, keys_file=keys),
        email=EmailSettings(host="127.0.0.1", port=port, security="none", **{"from": "sinergi@kalsel.example"})))
    secrets_file, secrets = dev_secrets(folder)
    try:
        async with harness(client, registry=registry, adapters={"email": email}) as h:
            pages = ReferralPages(registry=registry, tokens=ReferralTokens({TEST_KEY_ID: TEST_KEY}, TEST_KEY_ID),
                                  passcode_of=passcode_from_env({"TEST_EMAIL_PASSCODE": EMAIL_PASSCODE}),
                                  form_key=b"test-form-key-0123456789abcdef01", locks=PasscodeLocks())
            resources = dataclasses.replace(resources_for(secrets_file, TemporalLink.to(h.cases), client.namespace),
                                            referral_pages=pages)
            async with serve_app(resources) as (http, address):
                yield GatewayKit(http, address, h, secrets), mailbox
    finally:
        catcher.close()
        await catcher.wait_closed()
