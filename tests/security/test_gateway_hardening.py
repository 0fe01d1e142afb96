"""The gateway under a hostile client, on loopback: what aiohttp refuses itself, slow headers, headers that
name the software, Python's own words in error messages, readiness without workers, and what a 503 tells
an agency about its event.

Malformed HTTP goes over raw sockets: an HTTP client library would refuse to send it.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

import pytest
from aiohttp import ClientSession, web

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from gateway_kit import (  # noqa: E402 - the integration tests' kit, shared
    PROVINCE_OFFICE,
    REFERRED_ABROAD,
    TEST_SETTINGS,
    GatewayKit,
    dev_secrets,
    envelope,
    gateway_for,
    ready_answer,
    resources_for,
    serve_app,
)

from sinergi.cases import Cases  # noqa: E402
from sinergi.gateway import TemporalLink, create_app  # noqa: E402
from sinergi.gateway.resources import LANES  # noqa: E402
from sinergi.gateway.serve import gateway_runner  # noqa: E402
from sinergi.policies import load_policy
from sinergi.testing.cases import harness  # noqa: E402

CONSENT = {"scope": "services"}
SIGNATURE = "v1," + "A" * 9000  # a header line over aiohttp's 8190-byte limit, as an attacker would send it


async def exchange(address: tuple[str, int], request: bytes, *, byte_every: float | None = None) -> tuple[bytes, float]:
    """Send `request` (all at once, or one byte every `byte_every` s) and read until the server closes."""
    reader, writer = await asyncio.open_connection(*address)
    started = time.monotonic()

    async def send() -> None:
        if byte_every is None:
            writer.write(request)
            return
        for i in range(len(request)):
            writer.write(request[i:i + 1])
            await asyncio.sleep(byte_every)

    sending = asyncio.create_task(send())
    try:
        answer = await asyncio.wait_for(reader.read(), timeout=30)
    finally:
        sending.cancel()
        writer.close()
    return answer, time.monotonic() - started


def split(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def error_body(body: bytes) -> dict:
    parsed = json.loads(body)
    assert set(parsed) == {"error", "message", "details"}, parsed
    return parsed


@pytest.fixture(scope="module")
async def kit(dev_env, tmp_path_factory):
    settings = TEST_SETTINGS.model_copy(update={"header_timeout_seconds": 1.0, "max_body_bytes": 16384})
    async with gateway_for(dev_env, tmp_path_factory.mktemp("gateway-hardening"), settings) as kit:
        yield kit


# --- 1. aiohttp's own 400s are the gateway's JSON, and quote nothing back ---------------------------


@pytest.mark.parametrize(("request_bytes", "code"), [
    (b"POST /v1/agencies/x/events HTTP/1.1\r\nHost: gw\r\nwebhook-signature: " + SIGNATURE.encode()
     + b"\r\n\r\n", "header_too_large"),
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: gw\r\n\r\n", "header_too_large"),
    (b"SIGNATURE-v1-AAAA / HTTP/1.1\r\nHost: gw\r\n\r\n", "malformed_request"),
    (b"GET /healthz HTTP/1.1\r\nHost: gw\r\nBad Header-v1AAAA: x\r\n\r\n", "malformed_request"),
])
async def test_a_request_aiohttp_refuses_is_answered_as_json_without_its_bytes(kit, request_bytes, code):
    answer, _ = await exchange(kit.address, request_bytes)
    status, headers, body = split(answer)
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    assert error_body(body)["error"] == code
    assert b"AAAA" not in answer and b"aaaa" not in answer and b"v1" not in body
    assert headers["server"] == "sinergi"


# --- 2. no Server header naming Python and aiohttp ----------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "/healthz"), ("GET", "/v1/openapi.json"),
                                              ("GET", "/no/such/route"), ("DELETE", "/healthz"),
                                              ("POST", "/codec/decode"), ("OPTIONS", "/codec/decode")])
async def test_every_response_names_the_server_sinergi_and_no_versions(kit, method, path):
    response = await kit.client.request(method, path, headers={"Origin": "http://localhost:8233"})
    assert response.headers["Server"] == "sinergi"


async def test_an_event_error_names_the_server_sinergi(kit):
    response = await kit.post(PROVINCE_OFFICE, b"{}", signed=False)
    assert response.status == 401 and response.headers["Server"] == "sinergi"


# --- 3. no Python internals in error messages ---------------------------------------------------------


async def test_a_number_with_thousands_of_digits_is_refused_in_plain_words(kit):
    body = b'{"event_id": "e-1", "case_id": "T-X", "type": "consent.recorded", "data": {"n": ' + b"9" * 5000 + b"}}"
    response = await kit.post(PROVINCE_OFFICE, body, msg_id="e-1")
    answer = await response.json()
    assert response.status == 400 and answer["error"] == "invalid_body"
    assert "digits" in answer["message"] and "body" in answer["message"]
    assert "sys." not in answer["message"] and "int_max_str_digits" not in answer["message"]


# --- 4. slow headers are cut off ----------------------------------------------------------------------


async def test_headers_sent_a_byte_at_a_time_get_408_within_the_header_timeout(kit):
    request = b"GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Padding: " + b"p" * 200 + b"\r\n\r\n"
    answer, took = await exchange(kit.address, request, byte_every=0.1)  # 25 s for the whole request
    status, headers, body = split(answer)
    assert status == 408 and error_body(body)["error"] == "header_timeout"
    assert headers["server"] == "sinergi"
    assert 0.9 <= took < 3.0  # header_timeout_seconds = 1


async def test_a_request_sent_whole_and_a_slow_body_are_not_cut_by_the_header_timeout(kit):
    answer, _ = await exchange(kit.address, b"GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
    assert split(answer)[0] == 200
    # A body is the read timeout's business (408 `request_timeout`), not the header timeout's.
    body = json.dumps(envelope("T-X", "consent.recorded", CONSENT)).encode()
    request = (b"POST /v1/agencies/x/events HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    reader, writer = await asyncio.open_connection(*kit.address)
    writer.write(request + body[:10])
    answer = await asyncio.wait_for(reader.readuntil(b"}"), timeout=5)  # the connection lingers for the body
    writer.close()
    status, _, reply = split(answer)
    assert status == 408 and error_body(reply)["error"] == "request_timeout"


async def test_an_idle_keep_alive_connection_is_not_cut_by_the_header_timeout(kit):
    reader, writer = await asyncio.open_connection(*kit.address)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n")
    first = await reader.readuntil(b"}")
    assert b" 200 " in first
    await asyncio.sleep(1.5)  # longer than the header timeout, with no request begun
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n")
    second = await asyncio.wait_for(reader.read(), timeout=5)
    writer.close()
    assert b" 200 " in second


# --- 5. /readyz: a worker must poll the case task queue ------------------------------------------------


async def test_readyz_is_ready_when_workers_poll_the_case_queue(kit):
    ready = await ready_answer(kit.client)
    assert ready.status == 200, await ready.text()
    assert await ready.json() == {"status": "ready", "checks": {"config": True, "temporal": True, "workers": True},
                                  "no_worker": []}


async def test_readyz_is_503_naming_the_queue_no_worker_polls(dev_env, tmp_path):
    secrets_file, _ = dev_secrets(tmp_path)
    queue = f"no-worker-{uuid.uuid4().hex[:8]}"
    link = TemporalLink.to(Cases(dev_env.client, queue, load_policy("default")))
    async with serve_app(resources_for(secrets_file, link, dev_env.client.namespace)) as (client, _):
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 503 and ready.headers["Retry-After"]
        assert body["checks"] == {"config": True, "temporal": True, "workers": False}
        assert body["no_worker"] == [{"task_queue": queue, "type": "workflow"},
                                     {"task_queue": queue, "type": "activity"}]
        assert (await client.get("/healthz")).status == 200  # liveness is not readiness


async def test_readyz_asks_the_server_once_per_cache_period_however_many_probes(dev_env, tmp_path):
    secrets_file, _ = dev_secrets(tmp_path)
    cases = Cases(dev_env.client, f"no-worker-{uuid.uuid4().hex[:8]}", load_policy("default"))
    asked = []
    service = dev_env.client.workflow_service
    describe = service.describe_task_queue

    async def counting(request, **kwargs):
        asked.append(request.task_queue.name)
        return await describe(request, **kwargs)

    service.describe_task_queue = counting
    try:
        async with serve_app(resources_for(secrets_file, TemporalLink.to(cases))) as (client, _):
            answers = await asyncio.gather(*(client.get("/readyz") for _ in range(20)))
            assert {a.status for a in answers} == {503}
    finally:
        del service.describe_task_queue
    assert len(asked) == 2  # workflow and activity tasks of the one queue, once


# --- 6. a 503 says whether the event may still be applied ---------------------------------------------


async def test_a_503_says_whether_the_event_may_still_be_applied_and_a_retry_shows_it(dev_env, tmp_path):
    """No worker yet. An event sent to Temporal waits there: the gateway answers 503 may_still_apply=true,
    and once a worker runs the event is applied and its retry is a 200 duplicate. An event still queued
    behind the case's earlier events was never sent: 503 may_still_apply=false, and its retry is a 202."""
    secrets_file, secrets = dev_secrets(tmp_path)
    async with harness(dev_env.client) as h:  # the case opens and refers to the mission abroad; then its
        case_id = await h.open()              # workers stop, and the queue has none
        await GatewayKit(None, None, h, secrets).settle(case_id)
        referral = next(r.referral_id for r in (await h.cases.status(case_id)).referrals
                        if r.agency == REFERRED_ABROAD)
    settings = TEST_SETTINGS.model_copy(update={"apply_timeout_seconds": 1.0, "case_concurrency": 1})
    app = create_app(settings, lambda: nullcontext(resources_for(secrets_file, TemporalLink.to(h.cases))))
    runner = gateway_runner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        address = runner.addresses[0][:2]
        async with ClientSession(base_url=f"http://{address[0]}:{address[1]}") as client:
            kit = GatewayKit(client, address, h, secrets)
            sent = envelope(case_id, "referral.acknowledged", {"referral_id": referral})
            response = await kit.post(REFERRED_ABROAD, sent)
            assert await _advice(response) is True
            queued = envelope(case_id, "referral.accepted", {"referral_id": referral})
            async with app[LANES].hold(case_id):  # the case's earlier events, still being applied
                response = await kit.post(REFERRED_ABROAD, queued)
            assert await _advice(response) is False
            async with _workers_on(dev_env.client, h.task_queue):
                assert await _until_answered(kit, sent) == (200, True)  # it was applied: a duplicate
                assert await _until_answered(kit, queued) == (202, False)  # it was not: applied now
    finally:
        await runner.cleanup()


async def _advice(response) -> bool:
    body = await response.json()
    assert response.status == 503 and response.headers["Retry-After"], body
    assert body["error"] == "case_unavailable" and set(body["details"]) == {"may_still_apply", "retry"}, body
    assert body["details"]["retry"] == "same_event_id"
    return body["details"]["may_still_apply"]


async def _until_answered(kit: GatewayKit, event: dict) -> tuple[int, bool]:
    """Retry as an agency does, same event id, until the case answers (its worker is starting)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = await kit.post(REFERRED_ABROAD, event)
        if response.status != 503:
            return response.status, (await response.json())["duplicate"]
        await asyncio.sleep(0.2)
    raise AssertionError("the case never answered")


async def test_temporal_not_reached_is_a_503_that_was_certainly_not_applied(tmp_path):
    async def unreachable() -> Cases:
        raise RuntimeError("Failed client connect: connection refused")

    secrets_file, secrets = dev_secrets(tmp_path)
    async with serve_app(resources_for(secrets_file, TemporalLink(unreachable, retry_seconds=0.05))) as (client, a):
        response = await GatewayKit(client, a, None, secrets).post(PROVINCE_OFFICE,
                                                                   envelope("T-ANY", "consent.recorded", CONSENT))
        body = await response.json()
        assert response.status == 503 and body["error"] == "temporal_unavailable"
        assert body["details"] == {"may_still_apply": False, "retry": "same_event_id"}


async def test_a_workflow_task_the_server_refused_is_a_503_that_was_not_applied(dev_env, tmp_path):
    """`Cases.send` gives up after the server refused every workflow task carrying the event
    (`cases._could_not_take`): the server aborted the update, so the event was not applied."""
    from temporalio.service import RPCError, RPCStatusCode

    from sinergi.cases import _could_not_take

    class Refusing(Cases):
        async def send(self, event, sender=None):
            refused = RPCError("unexpected workflow task failure", RPCStatusCode.FAILED_PRECONDITION, b"")
            raise _could_not_take(event, refused) from refused

    secrets_file, secrets = dev_secrets(tmp_path)
    link = TemporalLink.to(Refusing(dev_env.client, "unused", load_policy("default")))
    async with serve_app(resources_for(secrets_file, link)) as (client, address):
        response = await GatewayKit(client, address, None, secrets).post(
            PROVINCE_OFFICE, envelope("T-ANY", "consent.recorded", CONSENT))
        body = await response.json()
        assert response.status == 503 and body["error"] == "case_unavailable"
        assert body["details"] == {"may_still_apply": False, "retry": "same_event_id"}


# --- 7. the OpenAPI document says all of it ---------------------------------------------------------


async def test_the_openapi_document_describes_503_advice_readiness_parser_errors_and_the_codec(kit):
    doc = await (await kit.client.get("/v1/openapi.json")).json()
    post = doc["paths"]["/v1/agencies/{office}/events"]["post"]["responses"]
    assert "may_still_apply" in post["503"]["description"]
    assert "RetryAdvice" in json.dumps(post["503"]["content"])
    assert "event_id_reused" in post["409"]["description"]
    assert "not_a_party" in post["403"]["description"] and "not_allowed" in post["403"]["description"]
    assert "header_too_large" in post["400"]["description"] and "header_timeout" in post["408"]["description"]
    readyz = doc["paths"]["/readyz"]["get"]["responses"]
    assert "no_worker" in readyz["503"]["description"] and "400" in readyz
    assert "no_worker" in doc["components"]["schemas"]["Health"]["properties"]
    decode = doc["paths"]["/codec/decode"]
    assert "temporal.api.common.v1.Payloads" in decode["post"]["requestBody"]["description"]
    assert {"401", "403"} <= set(decode["post"]["responses"])
    assert "204" in decode["options"]["responses"]


class _workers_on:  # noqa: N801 - used as a context manager, like a function
    """Real workers for an existing task queue (the harness's own picks a fresh queue)."""

    def __init__(self, client, task_queue: str) -> None:
        self.client, self.task_queue = client, task_queue

    async def __aenter__(self):
        from sinergi.activities.agencies import AgencyActivities
        from sinergi.adapters.base import AdapterContext
        from sinergi.adapters.sandbox import Ledger, SandboxAdapter
        from sinergi.agencies import load_registry
        from sinergi.worker import build_workers, run_workers

        registry = load_registry("sandbox")
        stand_in = SandboxAdapter(AdapterContext(callback_base_url="http://127.0.0.1:1"), Ledger())
        adapters = {name: stand_in for name in {"sandbox", *(o.adapter for o in registry.offices.values())}}
        activities = AgencyActivities(registry, adapters, "http://127.0.0.1:1")
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(run_workers(build_workers(self.client, self.task_queue, activities),
                                                    self.stop))
        return self

    async def __aexit__(self, *exc):
        self.stop.set()
        await self.task
