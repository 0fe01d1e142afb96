"""Schemathesis over the live gateway: every operation of `GET /v1/openapi.json`, fuzzed from the document itself.

The real gateway runs on loopback in front of the real dev server and a worker (tests/integration/gateway_kit.py),
with one real case open. Schemathesis loads the document the gateway serves and generates requests for every
operation it lists, valid (positive) and invalid (negative). Requests to `POST /v1/agencies/{office}/events` are
mostly signed per Standard Webhooks with the inbound secret of an office of the test registry, `webhook-id` set to
the body's `event_id` and the body's `case_id` often the real case's, so the fuzzer gets past the signature and
reaches body validation, authority and the case; the rest keep schemathesis' own (garbage) signature headers, are
signed with another office's secret or too long ago, or go to an office the fuzzer made up.

Every response must: not be a 5xx, except a 503 with a JSON body (Temporal busy); be JSON with `error` and
`message` when its status is >= 400; and conform to the document (status code, content type, body schema,
headers). Bounded and deterministic: hypothesis derandomized, a fixed number of examples per operation, no
deadline, no example database.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys
import traceback
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from gateway_kit import CODEC_TOKEN, POLICE, PROVINCE_OFFICE, REFERRED_ABROAD, UI_ORIGIN, gateway_for  # noqa: E402

from sinergi.platform.signing import signed_headers  # noqa: E402

pytestmark = pytest.mark.slow

EVENTS = "POST /v1/agencies/{office}/events"
# Examples per operation: the event endpoint is where the gateway does its work; the others are small.
EXAMPLES = {EVENTS: 200}
OTHER_EXAMPLES = 50
# Offices for the event endpoint, all in the test registry: the BP3MI office that registered the test case's intake
# (its lead office: case-level decisions), the province's UPTD PPA (consent.*, protection.*), the police, the
# mission the case referred to; and `None`: the office id schemathesis generated (not in the registry: 401).
LEAD_OFFICE = "bp3mi_kalsel"
OFFICES = [LEAD_OFFICE] * 3 + [PROVINCE_OFFICE] * 3 + [POLICE, REFERRED_ABROAD, None]
# How the event is signed: mostly right; else the generated headers, another office's secret, or a stale time.
SIGNING = ["valid"] * 7 + ["generated", "another_secret", "stale"]

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
# Origins for the codec endpoints' CORS preflights: none, the UI's, someone else's.
ORIGINS = [None, UI_ORIGIN, "http://attacker.example"]


def no_server_error_but_a_json_503(ctx, response, case) -> None:
    """No 5xx, except 503 with a JSON body: Temporal unreachable or the case busy, retry later."""
    if response.status_code == 503 and _json(response) is not None:
        return None
    return not_a_server_error(ctx, response, case)


def errors_are_json_with_error_and_message(ctx, response, case) -> None:
    if response.status_code < 400:
        return None
    body = _json(response)
    assert isinstance(body, dict) and {"error", "message"} <= set(body), (
        f"{case.operation.label}: {response.status_code} without a JSON `error` and `message`: "
        f"{response.content[:300]!r}")
    return None


def _json(response) -> Any:
    if not (response.headers.get("content-type") or [""])[0].startswith("application/json"):
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


@pytest.fixture(scope="module")
async def gateway(dev_env, tmp_path_factory):
    async with gateway_for(dev_env, tmp_path_factory.mktemp("schemathesis")) as kit:
        yield kit, await kit.open_case()


def _event_request(case, data: st.DataObject, secrets: dict[str, str], case_id: str
                   ) -> tuple[dict[str, str], bytes | None]:
    """Headers (and the exact body bytes) for a generated event request: signed, most of the time."""
    office = data.draw(st.sampled_from(OFFICES), label="office")
    if office is not None:
        case.path_parameters = {**(case.path_parameters or {}), "office": office}
    office = case.path_parameters["office"]
    body = case.body
    if isinstance(body, dict) and "case_id" in body and data.draw(st.booleans(), label="real case"):
        body["case_id"] = case_id
    if isinstance(body, NotSet):
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    else:
        try:
            raw = json.dumps(body, allow_nan=False).encode()  # what requests would send, so we sign it exactly
        except (TypeError, ValueError):
            return {}, None  # not JSON-serialisable: schemathesis serialises it; left unsigned
    signing = data.draw(st.sampled_from(SIGNING), label="signing")
    if signing == "generated":
        return {}, raw if not isinstance(body, NotSet) else None
    event_id = body.get("event_id") if isinstance(body, dict) else None
    if not (isinstance(event_id, str) and event_id.isascii() and event_id.isprintable() and 0 < len(event_id) < 200):
        event_id = "msg-" + hashlib.sha256(raw).hexdigest()[:16]
    secret = secrets.get(POLICE if signing == "another_secret" and office != POLICE else office) or secrets[POLICE]
    at = datetime.now(UTC) - (timedelta(minutes=10) if signing == "stale" else timedelta())
    try:
        headers = signed_headers(secret, event_id, raw, now=at)
    except UnicodeDecodeError:
        return {}, raw
    return headers, raw if not isinstance(body, NotSet) else None


def fuzz_operation(operation, base_url: str, secrets: dict[str, str], case_id: str,
                   statuses: Counter) -> None:
    """Run one operation's examples (blocking: called in a thread, the gateway serves on the test's loop)."""
    label = operation.label
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    strategies = []
    for mode in modes:
        try:
            strategies.append(operation.as_strategy(generation_mode=mode))
        except Exception:  # noqa: BLE001 - an operation with nothing to negate has no negative strategy
            if mode is GenerationMode.POSITIVE:
                raise
    session = requests.Session()
    checks = [no_server_error_but_a_json_503, errors_are_json_with_error_and_message, *CHECKS]

    @settings(derandomize=True, database=None, deadline=None, max_examples=EXAMPLES.get(label, OTHER_EXAMPLES),
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate, Phase.shrink],
              print_blob=False)
    @given(case=st.one_of(strategies), data=st.data())
    def run(case, data):
        headers: dict[str, str] = {}
        kwargs: dict[str, Any] = {}
        if label == EVENTS:
            headers, raw = _event_request(case, data, secrets, case_id)
            if raw is not None:
                kwargs["data"] = raw
        elif label.startswith("POST /codec/") and data.draw(st.booleans(), label="codec token"):
            headers["Authorization"] = f"Bearer {CODEC_TOKEN}"
        elif label.startswith("OPTIONS /codec/") and (origin := data.draw(st.sampled_from(ORIGINS), label="origin")):
            headers["Origin"] = origin
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30, **kwargs)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=checks, headers=headers)

    try:
        run()
    finally:
        session.close()


def fuzz_all(base_url: str, secrets: dict[str, str], case_id: str) -> tuple[dict[str, Counter], dict[str, str]]:
    served = schemathesis.openapi.from_url(f"{base_url}/v1/openapi.json", config=schemathesis.Config())
    # Schemathesis leaves out the operation that served the document (`GET /v1/openapi.json`); the same document,
    # loaded from its dict, has every operation.
    schema = schemathesis.openapi.from_dict(served.raw_schema, config=schemathesis.Config())
    documented = {f"{method.upper()} {path}" for path, item in served.raw_schema["paths"].items() for method in item
                  if method in HTTP_METHODS}
    statuses: dict[str, Counter] = defaultdict(Counter)
    failures: dict[str, str] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            fuzz_operation(operation, base_url, secrets, case_id, statuses[operation.label])
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collected: every failing operation
            failures[operation.label] = "".join(traceback.format_exception_only(exc))
    assert set(statuses) == documented, (sorted(statuses), sorted(documented))
    return statuses, failures


async def test_every_operation_of_the_openapi_document_survives_schemathesis(gateway):
    kit, case_id = gateway
    host, port = kit.address
    statuses, failures = await asyncio.to_thread(fuzz_all, f"http://{host}:{port}", kit.secrets, case_id)
    print({label: dict(sorted(counts.items())) for label, counts in statuses.items()})
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())
    # The signed requests got past the signature: body validation, authority and case lookup all answered.
    reached = set(statuses[EVENTS])
    assert {400, 401, 404} <= reached, statuses[EVENTS]
    assert reached & {200, 202, 403, 409}, statuses[EVENTS]
