"""The sandbox agencies over real HTTP on loopback, without Temporal: signatures, idempotency, outages,
failures, the ledger, and the events they send back (signed, retried on 409 and 5xx)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from sinergi.agencies import load_registry
from sinergi.platform.secrets import DEV_SECRETS, ensure_dev_secrets, new_secret, office_secret
from sinergi.platform.signing import signed_headers, verify
from sinergi.sandbox import Sandbox, SandboxOptions, Window, parse_outage, parse_reject
from sinergi.testing.contract import sample_notice, sample_referral

REGISTRY = load_registry("sandbox")
POLICE = REGISTRY.offices["polda_kalsel"]
FAST = {"delay": 0.0, "jitter": 0.0, "retry_interval": 0.02, "retry_max_interval": 0.05, "wait_timeout": 2.0}


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    path = tmp_path / DEV_SECRETS
    ensure_dev_secrets(path, REGISTRY.offices.values())
    return path


class FakeGateway:
    """Records the agencies' events, verifying each with the office's inbound secret; answers from a script."""

    def __init__(self, secrets_file: Path) -> None:
        self.secrets_file = secrets_file
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.script: list[int | tuple[int, dict[str, str]]] = []  # answers first (status[, headers]), then 202
        self.arrived = asyncio.Event()
        self.tries: list[float] = []  # when each request came (monotonic)

    async def handle(self, request: web.Request) -> web.Response:
        self.tries.append(time.monotonic())
        office = REGISTRY.offices[request.match_info["office"]]
        body = await request.read()
        verify(office_secret(office, "inbound", {}, self.secrets_file), body, request.headers)
        answer = self.script.pop(0) if self.script else 202
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        if status == 202:
            self.events.append((office.id, json.loads(body)))
            self.arrived.set()
        return web.json_response({"error": "x", "message": "not yet"}, status=status, headers=headers)

    def types(self) -> list[str]:
        return [e["type"] for _, e in self.events]


@pytest.fixture
async def gateway(secrets_file: Path):
    fake = FakeGateway(secrets_file)
    app = web.Application()
    app.router.add_post("/v1/agencies/{office}/events", fake.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield fake, f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


async def _post(session: aiohttp.ClientSession, url: str, body: dict[str, Any], key: str,
                secret: str | None) -> aiohttp.ClientResponse:
    raw = json.dumps(body).encode()
    headers = {"Idempotency-Key": key, **(signed_headers(secret, key, raw) if secret else {})}
    async with session.post(url, data=raw, headers=headers) as response:
        await response.read()
        return response


async def _referral(sandbox: Sandbox, session, secrets_file: Path, office=POLICE, **overrides):
    message = sample_referral(**overrides).model_dump(mode="json")
    secret = office_secret(office, "outbound", {}, secrets_file)
    return await _post(session, f"{sandbox.url}/{office.id}/referrals", message, message["referral_id"], secret)


async def test_a_forged_or_missing_signature_is_refused_with_401(secrets_file: Path) -> None:
    async with Sandbox(REGISTRY, SandboxOptions(storylines=False), secrets_file=secrets_file, environ={}) as sandbox, \
            aiohttp.ClientSession() as session:
        body = sample_referral().model_dump(mode="json")
        forged = await _post(session, f"{sandbox.url}/polda_kalsel/referrals", body, "k1", new_secret())
        unsigned = await _post(session, f"{sandbox.url}/polda_kalsel/referrals", body, "k1", None)
        # Another office's secret is as good as a forgery.
        other = office_secret(REGISTRY.offices["lpsk"], "outbound", {}, secrets_file)
        crossed = await _post(session, f"{sandbox.url}/polda_kalsel/referrals", body, "k1", other)
        assert (forged.status, unsigned.status, crossed.status) == (401, 401, 401)
        assert sandbox.ledger.entries() == []


async def test_a_repeated_idempotency_key_is_answered_200_and_not_applied_again(secrets_file: Path) -> None:
    async with Sandbox(REGISTRY, SandboxOptions(storylines=False), secrets_file=secrets_file, environ={}) as sandbox, \
            aiohttp.ClientSession() as session:
        rid = "KALSEL-2026-IDEM-R001"
        first = await _referral(sandbox, session, secrets_file, referral_id=rid)
        again = await _referral(sandbox, session, secrets_file, referral_id=rid)
        assert (first.status, again.status) == (202, 200)
        async with session.get(f"{sandbox.url}/ledger") as response:
            ledger = await response.json()
        entry = ledger["offices"]["polda_kalsel"][rid]
        assert (entry["attempts"], entry["applied"], entry["duplicates"]) == (2, 1, 1)
        assert entry["fields"] == ["person.full_name", "person.sex", "situation.is_pmi"]
        assert "Contoh" not in json.dumps(ledger)  # the ledger shows field names, never the data


async def test_outage_windows_and_the_failure_rate_answer_5xx_and_are_counted(secrets_file: Path) -> None:
    options = SandboxOptions(storylines=False, outages={"polda_kalsel": [Window(start=0, end=60)]})
    async with Sandbox(REGISTRY, options, secrets_file=secrets_file, environ={}) as sandbox, \
            aiohttp.ClientSession() as session:
        down = await _referral(sandbox, session, secrets_file, referral_id="K-R001")
        other = await _referral(sandbox, session, secrets_file, office=REGISTRY.offices["lpsk"], referral_id="K-R002")
        sandbox.restore("polda_kalsel")
        sandbox.options.failure_rate = 1.0
        failing = await _referral(sandbox, session, secrets_file, referral_id="K-R001")
        sandbox.options.failure_rate = 0.0
        back = await _referral(sandbox, session, secrets_file, referral_id="K-R001")
        assert (down.status, other.status, failing.status, back.status) == (503, 202, 500, 202)
        entry = dict(sandbox.ledger.entries("polda_kalsel"))["polda_kalsel"]
        assert (entry.attempts, entry.refused, entry.applied) == (3, 2, 1)


def test_outage_and_refusal_options_parse_from_the_command_line_form() -> None:
    assert parse_outage("kbri_kuala_lumpur=30-90") == ("kbri_kuala_lumpur", Window(start=30, end=90))
    assert parse_outage("*=0-5")[0] == "*"
    assert parse_reject("polda_kalsel=form B missing") == ("polda_kalsel", "form B missing")
    for bad in ("kbri=90-30", "kbri", "kbri=abc"):
        with pytest.raises(ValueError):
            parse_outage(bad)


async def test_the_police_file_a_report_and_grant_protection_retrying_a_409(secrets_file: Path, gateway) -> None:
    fake, url = gateway
    fake.script = [409, 503]  # the case is not ready, then the gateway is briefly down
    async with Sandbox(REGISTRY, SandboxOptions(**FAST, gateway_url=url), secrets_file=secrets_file,
                       environ={}) as sandbox, aiohttp.ClientSession() as session:
        response = await _referral(sandbox, session, secrets_file, service="police_report",
                                   data={"flags": {"sexual_exploitation": True}})
        assert response.status == 202
        await _until(lambda: "referral.completed" in fake.types())
    assert fake.types() == ["referral.acknowledged", "referral.accepted", "identification.police_report_filed",
                            "protection.police_protection_granted", "referral.completed"]
    ids = [e["event_id"] for _, e in fake.events]
    assert len(set(ids)) == len(ids) and all(office == "polda_kalsel" for office, _ in fake.events)


async def test_an_agency_told_retry_after_waits_that_long_before_sending_again(secrets_file: Path, gateway) -> None:
    # A gateway under load answers 503 + Retry-After: a well-behaved agency waits, it does not hammer it
    # at its own quick retry interval (0.02 s here).
    fake, url = gateway
    fake.script = [(503, {"Retry-After": "1"}), (429, {"Retry-After": "1"})]
    async with Sandbox(REGISTRY, SandboxOptions(**FAST, gateway_url=url), secrets_file=secrets_file,
                       environ={}) as sandbox, aiohttp.ClientSession() as session:
        response = await _referral(sandbox, session, secrets_file, service="police_report",
                                   data={"flags": {"sexual_exploitation": True}})
        assert response.status == 202
        await _until(lambda: fake.types() != [], timeout=10.0)
    first, second, third = fake.tries[:3]
    assert second - first >= 1.0 and third - second >= 1.0, fake.tries[:3]
    assert fake.types()[0] == "referral.acknowledged"


async def test_a_restriction_notice_stops_the_office_acting_on_the_case(secrets_file: Path, gateway) -> None:
    fake, url = gateway
    options = SandboxOptions(**{**FAST, "delay": 0.2}, gateway_url=url)
    async with Sandbox(REGISTRY, options, secrets_file=secrets_file, environ={}) as sandbox, \
            aiohttp.ClientSession() as session:
        await _referral(sandbox, session, secrets_file, service="police_report", case_id="KALSEL-2026-STOP")
        await _until(lambda: bool(fake.events))
        notice = sample_notice(case_id="KALSEL-2026-STOP").model_dump(mode="json")
        secret = office_secret(POLICE, "outbound", {}, secrets_file)
        assert (await _post(session, f"{sandbox.url}/polda_kalsel/notices", notice, notice["notice_id"],
                            secret)).status == 202
        seen = len(fake.events)
        await asyncio.sleep(0.5)  # proving a negative: two more steps' worth of delay pass with no event
        assert len(fake.events) == seen < 5


async def _until(check, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)
