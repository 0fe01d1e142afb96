"""The codec endpoints for the Temporal UI: round trips, real history payloads, token, CORS, decode log."""

from __future__ import annotations

import base64
import json

import pytest
from gateway_kit import CODEC_TOKEN, TEST_SETTINGS, UI_ORIGIN, gateway_for
from google.protobuf import json_format
from structlog.testing import capture_logs
from temporalio.api.common.v1 import Payloads

from sinergi.gateway.devlogin import COOKIE, DevUiLogin
from sinergi.testing.cases import SAMPLE_NAME, sealed_body

AUTH = {"Authorization": f"Bearer {CODEC_TOKEN}"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


PLAIN = {"payloads": [{"metadata": {"encoding": b64("json/plain")}, "data": b64('{"hello": "world"}')},
                      {"metadata": {"encoding": b64("binary/null")}}]}


@pytest.fixture(scope="module")
async def kit(dev_env, tmp_path_factory):
    async with gateway_for(dev_env, tmp_path_factory.mktemp("gateway-codec")) as kit:
        yield kit


async def codec(kit, action: str, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await kit.client.post(f"/codec/{action}", data=data,
                                 headers={"Content-Type": "application/json", **AUTH, **(headers or {})})


async def test_the_codec_token_decodes_what_a_key_holder_sealed_and_seals_nothing(kit):
    sealed = await sealed_body(PLAIN)
    assert all(base64.b64decode(p["metadata"]["encoding"]) == b"binary/encrypted" for p in sealed["payloads"])
    assert b"world" not in json.dumps(sealed).encode()
    decoded = await codec(kit, "decode", sealed)
    assert decoded.status == 200
    assert [json.loads(base64.b64decode(p.get("data", ""))) if p.get("data") else None
            for p in (await decoded.json())["payloads"]] == [{"hello": "world"}, None]
    # A machine's token reads (as an engineer); what it would seal, a worker would act on: refused.
    refused = await codec(kit, "encode", PLAIN)
    assert refused.status == 403 and (await refused.json())["error"] == "may_not_enter"


async def test_a_real_history_payload_decodes_and_the_decode_is_logged_without_its_content(kit):
    case_id = await kit.harness.open()
    handle = kit.harness.cases.handle(case_id)
    started = [e async for e in handle.fetch_history_events()][0].workflow_execution_started_event_attributes
    body = json_format.MessageToDict(started.input)
    assert SAMPLE_NAME.encode() not in json.dumps(body).encode()  # encrypted in history
    referer = f"{UI_ORIGIN}/namespaces/default/workflows/{handle.id}/run-1/history"
    with capture_logs() as logs:
        response = await codec(kit, "decode", body, {"Origin": UI_ORIGIN, "X-Namespace": "default",
                                                      "Referer": referer})
    assert response.status == 200
    decoded = json_format.ParseDict(await response.json(), Payloads())
    # The shared codec token names no person: an engineer's view, the case's structure without the victim.
    assert SAMPLE_NAME.encode() not in decoded.payloads[0].data
    assert '"full_name":"•••"' in decoded.payloads[0].data.decode()
    assert b'"province"' in decoded.payloads[0].data
    [line] = [line for line in logs if line["event"] == "codec_decode"]
    assert line["workflow_id"] == handle.id and line["namespace"] == "default" and line["count"] == 1
    assert line["role"] == "engineer" and line["masked"] is True
    assert SAMPLE_NAME not in json.dumps(logs, default=str)


@pytest.mark.parametrize("origin", ["http://localhost:8233", "http://127.0.0.1:8233"])
async def test_the_cors_preflight_from_the_ui_origin_is_allowed(kit, origin):
    response = await kit.client.options("/codec/decode", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace"})
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == origin
    allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-namespace"} <= allowed
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


async def test_the_cors_preflight_from_another_origin_is_refused(kit):
    response = await kit.client.options("/codec/decode", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert response.status == 403
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_a_request_from_another_origin_is_refused_even_with_the_token(kit):
    response = await codec(kit, "decode", PLAIN, {"Origin": "http://localhost:9999"})
    assert response.status == 403
    assert (await response.json())["error"] == "origin_not_allowed"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": CODEC_TOKEN},
                                     {"Authorization": f"Basic {CODEC_TOKEN}"}])
async def test_a_request_without_the_token_is_refused_with_401(kit, headers):
    response = await kit.client.post("/codec/decode", data=json.dumps(PLAIN),
                                     headers={"Content-Type": "application/json", "Origin": UI_ORIGIN, **headers})
    assert response.status == 401
    assert (await response.json())["error"] == "unauthorized"
    # The UI may read the refusal: the allowed origin still gets its CORS header.
    assert response.headers["Access-Control-Allow-Origin"] == UI_ORIGIN
    assert CODEC_TOKEN not in await response.text()


async def test_another_namespace_is_refused(kit):
    response = await codec(kit, "decode", PLAIN, {"X-Namespace": "someone-else"})
    assert response.status == 403


@pytest.mark.parametrize("body, status, error", [
    (b'{"payloads": "nope"}', 400, "invalid_body"),
    (b"[1]", 400, "invalid_body"),
    (b"\xff", 400, "invalid_body"),
    (json.dumps({"payloads": [{"metadata": {"encoding": b64("binary/encrypted"), "encryption-key-id": b64("k9")},
                               "data": b64("junk")}]}).encode(), 400, "cannot_decode"),
    (json.dumps({"payloads": [{"metadata": {"encoding": b64("binary/encrypted")}, "data": b64("x")}]}).encode(),
     400, "cannot_decode"),
])
async def test_bad_codec_bodies_are_4xx(kit, body, status, error):
    response = await codec(kit, "decode", body)
    assert response.status == status
    assert (await response.json())["error"] == error


async def test_sinergi_dev_lets_the_browser_of_its_link_decode_without_a_token_and_nobody_else(dev_env, tmp_path):
    # The Temporal UI cannot attach a static bearer token; `sinergi dev` prints a link whose cookie stands in
    # for it (sinergi.gateway.devlogin). The UI's origin alone is not enough: any local process can send it.
    login = DevUiLogin(ui_url=f"{UI_ORIGIN}/namespaces/default/workflows", codec_url="unused")
    async with gateway_for(dev_env, tmp_path, TEST_SETTINGS.with_dev_ui_login(login)) as local:
        sealed = await sealed_body(PLAIN)
        origin_only = await local.client.post("/codec/decode", data=json.dumps(sealed),
                                              headers={"Content-Type": "application/json", "Origin": UI_ORIGIN})
        assert origin_only.status == 401
        opened = await local.client.get(login.link(""))
        cookie = {"Cookie": f"{COOKIE}={opened.cookies[COOKIE].value}"}
        from_ui = await local.client.post("/codec/decode", data=json.dumps(sealed), headers={
            "Content-Type": "application/json", "Origin": UI_ORIGIN, **cookie})
        assert from_ui.status == 200
        assert json.loads(base64.b64decode((await from_ui.json())["payloads"][0]["data"])) == {"hello": "world"}
        no_origin = await local.client.post("/codec/decode", data=json.dumps(sealed),
                                            headers={"Content-Type": "application/json", **cookie})
        assert no_origin.status == 401


async def test_without_the_dev_setting_the_ui_origin_alone_is_not_enough(kit):
    response = await kit.client.post("/codec/decode", data=json.dumps(PLAIN),
                                     headers={"Content-Type": "application/json", "Origin": UI_ORIGIN})
    assert response.status == 401


async def test_every_decode_of_a_cases_history_is_audited_in_the_case_record_before_it_is_shown(kit, tmp_path):
    import dataclasses

    import sqlalchemy as sa
    from gateway_kit import dev_secrets, resources_for, serve_app

    from sinergi.gateway.resources import TemporalLink
    from sinergi.records import AsyncCaseRecord, CaseRecord, RecordUnavailable

    class Down:
        async def write(self, facts):
            raise RecordUnavailable("the record's database is down")

    record = CaseRecord.open(f"sqlite:///{tmp_path / 'records.db'}", migrate_schema=True)
    secrets_file, _ = dev_secrets(tmp_path)
    plain = resources_for(secrets_file, TemporalLink.to(kit.harness.cases))
    case = {"X-Workflow-Id": "case-KALSEL-2026-AUD1TED0"}
    try:
        async with serve_app(dataclasses.replace(plain, record=AsyncCaseRecord(record))) as (client, _):
            audited = _Kit(client)
            sealed = await sealed_body(PLAIN)
            assert (await codec(audited, "decode", sealed, case)).status == 200
            assert (await codec(audited, "decode", sealed)).status == 200  # no case named (a list): unattributed
        with record.engine.connect() as conn:
            audits = conn.execute(sa.text("SELECT case_id, workflow_id, who, masked FROM decode_audits")).all()
            access = conn.execute(sa.text("SELECT office, how FROM deliveries")).all()
        # The codec token's holder sees masked data: audited, and no delivery of the victim's fields.
        assert sorted((a.case_id, a.workflow_id, a.who, a.masked) for a in audits) == [
            ("KALSEL-2026-AUD1TED0", "case-KALSEL-2026-AUD1TED0", "codec-token holder", True),
            ("unattributed", "", "codec-token holder", True)]
        assert access == []
        async with serve_app(dataclasses.replace(plain, record=Down())) as (client, _):
            refused = await codec(_Kit(client), "decode", sealed, case)
            assert refused.status == 503 and (await refused.json())["error"] == "audit_unavailable"
    finally:
        record.close()


class _Kit:
    def __init__(self, client) -> None:
        self.client = client
