"""The gateway as a service: its OpenAPI document, health and readiness, and Temporal going away."""

from __future__ import annotations

import pytest
from gateway_kit import (
    PROVINCE_OFFICE,
    GatewayKit,
    dev_secrets,
    envelope,
    gateway_for,
    ready_answer,
    resources_for,
    serve_app,
)
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from temporalio.client import Client
from temporalio.service import RetryConfig
from temporalio.testing import WorkflowEnvironment

from sinergi.cases import Cases
from sinergi.gateway import TemporalLink
from sinergi.gateway.errors import EVENT_STATUSES
from sinergi.platform.binaries import temporal_cli
from sinergi.policies import load_policy
from sinergi.testing.cases import TEST_CONVERTER

CONSENT = {"scope": "services"}


@pytest.fixture(scope="module")
async def kit(dev_env, tmp_path_factory):
    async with gateway_for(dev_env, tmp_path_factory.mktemp("gateway-service")) as kit:
        yield kit


async def test_the_openapi_document_describes_every_endpoint_status_and_header(kit):
    response = await kit.client.get("/v1/openapi.json")
    assert response.status == 200
    doc = await response.json()
    validate_openapi(doc)  # raises on anything that is not valid OpenAPI 3.1
    assert set(doc["paths"]) == {"/v1/agencies/{office}/events", "/v1/openapi.json", "/healthz", "/readyz",
                                 "/codec/encode", "/codec/decode", "/codec/case-ids"}
    post = doc["paths"]["/v1/agencies/{office}/events"]["post"]
    assert set(post["responses"]) == {"200", "202", *map(str, EVENT_STATUSES)}
    assert "Retry-After" in post["responses"]["503"]["headers"]
    headers = {p["name"] for p in post["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert "case.opened" not in doc["components"]["schemas"]["Event"]["discriminator"]["mapping"]
    assert doc["paths"]["/codec/decode"]["post"]["security"] == [{"codecToken": []}, {"devUiSession": []}]


async def test_the_served_event_schema_accepts_a_real_event_and_rejects_a_bad_one(kit):
    doc = await (await kit.client.get("/v1/openapi.json")).json()
    validator = Draft202012Validator({"$ref": "#/components/schemas/Event", "components": doc["components"]})
    assert validator.is_valid(envelope("KALSEL-2026-7Q2M9XKD", "consent.recorded", CONSENT))
    assert not validator.is_valid(envelope("KALSEL-2026-7Q2M9XKD", "consent.recorded", {"scope": "everything"}))
    outcome = {"$ref": "#/components/schemas/EventOutcome", "components": doc["components"]}
    assert Draft202012Validator(outcome).is_valid(
        {"case_id": "X-1", "event_id": "e-1", "stage": "protection", "duplicate": False})


async def test_healthz_and_readyz_are_200_when_temporal_is_reachable_and_workers_poll(kit):
    assert (await kit.client.get("/healthz")).status == 200
    ready = await ready_answer(kit.client)
    assert ready.status == 200, await ready.text()
    assert await ready.json() == {"status": "ready", "checks": {"config": True, "temporal": True, "workers": True},
                                  "no_worker": []}


async def test_while_temporal_cannot_be_reached_events_are_503_with_retry_after(tmp_path):
    async def unreachable() -> Cases:
        raise RuntimeError("Failed client connect: connection refused")

    secrets_file, secrets = dev_secrets(tmp_path)
    link = TemporalLink(unreachable, retry_seconds=0.05)
    async with serve_app(resources_for(secrets_file, link)) as (client, address):
        kit = GatewayKit(client, address, None, secrets)
        response = await kit.post(PROVINCE_OFFICE, envelope("T-ANY", "consent.recorded", CONSENT))
        assert response.status == 503
        assert response.headers["Retry-After"] == "5"
        assert (await response.json())["error"] == "temporal_unavailable"
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        assert ready.status == 503 and (await ready.json())["checks"]["temporal"] is False


@pytest.mark.slow
async def test_when_temporal_goes_away_events_are_503_and_readyz_fails(tmp_path):
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_cli(),
                                                data_converter=TEST_CONVERTER, dev_server_extra_args=["--headless"])
    # A client that gives up on an unreachable server after two retries, not the default ten (~5 s here): what
    # the gateway answers is the same.
    temporal = await Client.connect(env.client.service_client.config.target_host, namespace=env.client.namespace,
                                    data_converter=TEST_CONVERTER, retry_config=RetryConfig(max_retries=2))
    secrets_file, secrets = dev_secrets(tmp_path)
    link = TemporalLink.to(Cases(temporal, "unused", load_policy("default")))
    async with serve_app(resources_for(secrets_file, link)) as (client, address):
        kit = GatewayKit(client, address, None, secrets)
        reached = await kit.post(PROVINCE_OFFICE, envelope("T-ANY", "consent.recorded", CONSENT))
        assert reached.status == 404  # Temporal answered: no such case
        await env.shutdown()
        response = await kit.post(PROVINCE_OFFICE, envelope("T-ANY", "consent.recorded", CONSENT))
        assert response.status == 503
        assert "Retry-After" in response.headers
        assert (await client.get("/readyz")).status == 503
