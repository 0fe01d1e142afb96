"""Traceable end to end (issue 6): one trace per case action across CLI, Temporal, agencies and gateway;
no victim's identity in any log line, span, search attribute or the Temporal server's own database; the
worker's Prometheus endpoint serving sinergi's counters."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import urllib.request
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from aiohttp import ClientSession
from opentelemetry.trace import SpanKind
from temporalio.testing import WorkflowEnvironment
from trace_kit import BRISK, spans, traced_stack

from sinergi.agencies import load_registry
from sinergi.domain.views import CaseStatus
from sinergi.platform import telemetry
from sinergi.platform.binaries import temporal_cli
from sinergi.platform.config import Settings, TelemetrySettings
from sinergi.platform.secrets import DEV_SECRETS, office_secret
from sinergi.platform.signing import signed_headers
from sinergi.platform.temporal import search_attribute_flags
from sinergi.sandbox import SandboxOptions
from sinergi.testing.cases import TEST_CONVERTER, intake
from sinergi.testing.logcapture import captured_log_lines
from sinergi.testing.waiting import eventually
from sinergi.workflows import observe

GATEWAY_ROUTE = "POST /v1/agencies/{office}/events"
# Nobody's: distinctive enough that finding any of them anywhere can only be a leak.
NAME = "Wulandari Sekarpadmi Kusumawardhani"
PHONE = "+62 813 4477 9012"
DOB = "1987-09-23"


def _header_payloads(message):
    """Every payload under a `header` field anywhere in a history event."""
    for field, value in message.ListFields():
        if field.type != field.TYPE_MESSAGE or field.message_type.GetOptions().map_entry:
            continue
        for item in value if isinstance(value, Sequence) else [value]:
            if field.name == "header":
                yield from item.fields.values()
            else:
                yield from _header_payloads(item)


def _trace_of(span) -> str:
    return format(span.context.trace_id, "032x")


async def test_one_trace_runs_from_case_open_through_workflow_activity_and_http_to_the_agency_whose_answer_links_back(
        dev_env, tmp_path: Path) -> None:
    captured = spans()
    captured.clear()
    async with traced_stack(dev_env.client, tmp_path) as stack:
        case_id = await stack.open_with_cli(intake())

        def answered():
            linked = [s for s in captured.named(GATEWAY_ROUTE) if s.attributes.get(telemetry.CASE_ID) == case_id
                      and s.attributes["http.response.status_code"] == 202]
            assert linked, "no agency answer was applied through the gateway yet"
            return linked[0]

        gateway = await eventually(answered)
        stack_history = stack.cases.handle(case_id).fetch_history()

    (command,) = captured.named("sinergi case open")
    root = command.context.trace_id
    in_trace = {s.name for s in captured.exported.get_finished_spans() if s.context.trace_id == root}
    assert {"StartWorkflow:CaseWorkflow", "RunWorkflow:CaseWorkflow", "StartActivity:deliver_referral",
            "RunActivity:deliver_referral"} <= in_trace, in_trace
    (start,) = captured.named("StartWorkflow:CaseWorkflow", root)
    assert start.parent.span_id == command.context.span_id
    assert start.attributes["temporalWorkflowID"] == f"case-{case_id}"
    # The agency's HTTP request: a client span of the activity, its traceparent received by the agency.
    http = [s for s in captured.exported.get_finished_spans() if s.context.trace_id == root
            and s.kind == SpanKind.CLIENT and s.attributes.get("url.full", "").startswith(stack.sandbox.url)]
    assert http and all(s.attributes["http.request.method"] == "POST" for s in http)
    activity_ids = {s.context.span_id for s in captured.named("RunActivity:deliver_referral", root)}
    assert {s.parent.span_id for s in http} <= activity_ids
    assert any(s.attributes.get(telemetry.OFFICE_ID) for s in captured.named("RunActivity:deliver_referral", root))
    agency_side = [s for s in captured.named("POST /{office}/referrals", root) if s.kind == SpanKind.SERVER]
    assert agency_side and {s.parent.span_id for s in agency_side} <= {s.context.span_id for s in http}
    # The agency's answer is its own request: a new trace, linked to the referral's.
    assert gateway.kind == SpanKind.SERVER and gateway.context.trace_id != root
    assert [link.context.trace_id for link in gateway.links] == [root]
    assert {link.context.span_id for link in gateway.links} <= {s.context.span_id for s in http}
    assert gateway.attributes[telemetry.EVENT_TYPE].startswith("referral.")
    # ... and what it causes is one trace of its own: the update, handled by the case.
    handled = captured.named("HandleUpdate:apply_event", gateway.context.trace_id)
    assert handled and handled[0].attributes[telemetry.CASE_ID] == case_id
    # The trace context travels in Temporal headers, encrypted in history like every payload.
    history = await stack_history
    headers = [p for e in history.events for p in _header_payloads(e)]
    assert headers and all(p.metadata.get("encoding") == b"binary/encrypted" for p in headers)
    print(f"\ntrace {root:032x}: {len(in_trace)} span names; gateway trace {_trace_of(gateway)} links to it")


async def test_each_event_gives_the_case_one_span_handled_when_applied_or_validated_with_the_refusal(
        dev_env, tmp_path: Path) -> None:
    captured = spans()
    captured.clear()
    async with traced_stack(dev_env.client, tmp_path, options=BRISK.model_copy(update={"storylines": False})) \
            as stack, ClientSession(stack.gateway_url) as http:
        case_id = (await stack.cases.open(intake())).case_id
        stack.opened.append(case_id)
        registry = load_registry("sandbox")
        secrets_file = stack.settings.dev.state_dir / DEV_SECRETS

        async def post(office: str, event: dict) -> int:
            body = json.dumps(event).encode()
            secret = office_secret(registry.offices[office], "inbound", environ={}, secrets_file=secrets_file)
            async with http.post(f"/v1/agencies/{office}/events", data=body, headers={
                    "Content-Type": "application/json", **signed_headers(secret, event["event_id"], body)}) as answer:
                return answer.status

        def consent() -> dict:
            return {"event_id": f"tr-{uuid.uuid4().hex[:12]}", "case_id": case_id, "type": "consent.recorded",
                    "occurred_at": datetime.now(UTC).isoformat(), "data": {"scope": "services"}}

        applied, outsider = consent(), consent()
        # BP3MI registered the intake: it leads the case once its screening referral has found it.
        await eventually(lambda: _lead_is(stack.cases, case_id, "bp3mi_kalsel"))
        assert await post("bp3mi_kalsel", applied) == 202
        assert await post("bp3mi_kalsel", applied) == 200  # the same event again: a duplicate
        assert await post("uptd_ppa_banjarmasin", outsider) == 403  # covers Kota Banjarmasin, not this case

    def case_spans(event_id: str, status: int) -> list:
        (request,) = [s for s in captured.named(GATEWAY_ROUTE) if s.attributes.get(telemetry.EVENT_ID) == event_id
                      and s.attributes["http.response.status_code"] == status]
        return [s for s in captured.exported.get_finished_spans() if s.context.trace_id == request.context.trace_id
                and s.name in ("HandleUpdate:apply_event", "ValidateUpdate:apply_event")]

    (handled,) = case_spans(applied["event_id"], 202)
    assert handled.name == "HandleUpdate:apply_event" and "error.type" not in handled.attributes
    assert handled.attributes[telemetry.EVENT_ID] == applied["event_id"]
    (duplicate,) = case_spans(applied["event_id"], 200)
    assert (duplicate.name, duplicate.attributes["error.type"]) == ("ValidateUpdate:apply_event", "DuplicateEvent")
    (refused,) = case_spans(outsider["event_id"], 403)
    assert (refused.name, refused.attributes["error.type"]) == ("ValidateUpdate:apply_event", "NotAParty")
    assert refused.attributes[telemetry.CASE_ID] == case_id


async def test_a_victims_name_phone_and_birth_date_appear_in_no_log_span_search_attribute_or_server_database(
        tmp_path: Path) -> None:
    db = tmp_path / "temporal.db"
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), data_converter=TEST_CONVERTER, dev_server_database_filename=str(db),
        dev_server_extra_args=[*search_attribute_flags(), "--headless"])
    captured = spans()
    captured.clear()
    try:
        with captured_log_lines() as lines:
            async with traced_stack(env.client, tmp_path / "stack", options=BRISK) as stack:
                (tmp_path / "stack").mkdir(exist_ok=True)
                person = {"full_name": NAME, "phone": PHONE, "date_of_birth": DOB, "email": "wulan.k@example.org",
                          "address": "Jalan Kenanga Gg. Melati No. 7, Banjarbaru"}
                case_id = await stack.open_with_cli(intake(person=person))

                async def rehabilitating() -> CaseStatus:
                    status = await stack.cases.status(case_id)
                    assert status.stage in ("rehabilitation", "repatriation", "reintegration", "closed"), status.stage
                    return status

                await eventually(rehabilitating, timeout=40)
                await stack.cli("case", "status", case_id)
                received = json.dumps([e.body for _, e in stack.sandbox.ledger.entries(case_id=case_id)])
                assert NAME in received, "the agencies must have received the person for this test to mean anything"
                timeline = await stack.cases.timeline(case_id)
                description = await stack.cases.handle(case_id).describe()
        stages = {e.text for e in timeline.entries if e.kind == "stage"}
        assert len(stages) >= 2, stages  # identification → protection → rehabilitation at least
    finally:
        await env.shutdown()

    secrets = [NAME, PHONE, DOB, NAME.split()[1], "4477 9012", "813 4477", "Kenanga", "wulan.k@example.org"]
    text = lines.getvalue()
    print(f"\n{text.count(chr(10))} log lines, {len(captured.exported.get_finished_spans())} spans, stages {stages}; "
          f"{sum(p.stat().st_size for p in tmp_path.iterdir() if p.name.startswith('temporal.db'))} bytes of database")
    assert text.count("\n") > 20, "the processes must have logged for this test to mean anything"
    assert '"workflow_id": "case-' + case_id in text and '"trace_id"' in text
    for secret in secrets:
        assert secret.lower() not in text.lower(), f"{secret!r} in a log line"
    for exporter in (captured.exported, captured.raw):  # what leaves the process, and what was made at all
        spans_text = json.dumps([[s.name, dict(s.attributes or {}), [[e.name, dict(e.attributes or {})]
                                                                       for e in s.events],
                                  [dict(link.attributes or {}) for link in s.links], s.status.description]
                                 for s in exporter.get_finished_spans()], default=str)
        assert case_id in spans_text
        for secret in secrets:
            assert secret.lower() not in spans_text.lower(), f"{secret!r} in a span"
    attributes = json.dumps({pair.key.name: pair.value for pair in description.typed_search_attributes}, default=str)
    assert case_id in attributes
    for secret in secrets:
        assert secret not in attributes, f"{secret!r} in a search attribute"
    files = [p for p in tmp_path.iterdir() if p.name.startswith("temporal.db")]
    raw = b"".join(p.read_bytes() for p in files)
    assert case_id.encode() in raw, "the server's database must hold the case for this test to mean anything"
    for secret in secrets:
        for form in (secret.encode(), secret.lower().encode(), base64.b64encode(secret.encode())):
            assert form not in raw, f"{secret!r} in the Temporal server's database"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_workers_prometheus_endpoint_serves_sinergi_counters(dev_env, tmp_path: Path) -> None:
    address = f"127.0.0.1:{_free_port()}"
    runtime = telemetry.build_runtime(Settings(telemetry=TelemetrySettings(metrics_address=address)))
    # KBRI refuses: the referral fails, a manual task opens and the failure is escalated. No agency answers
    # anything else, so the acknowledgement clock S3 (2 s in this policy) is missed for the screening.
    demo = (resources.files("sinergi.policies") / "demo.toml").read_text("utf-8")
    head, s3 = demo.split("[clocks.S3]")
    policy = tmp_path / "quick-s3.toml"
    policy.write_text(head + "[clocks.S3]" + re.sub(r'duration = "\w+"', 'duration = "2s"', s3, count=1), "utf-8")
    options = SandboxOptions(storylines=False, reject={"kbri_kuala_lumpur": "travel document copy missing"})
    async with traced_stack(dev_env.client, tmp_path, options=options, runtime=runtime, policy=str(policy)) as stack:
        case_id = await stack.open_with_cli(intake())

        async def counted() -> str:
            text = await asyncio.to_thread(_scrape, address)
            for name in (observe.REFERRALS_SENT, observe.MANUAL_TASKS, observe.ESCALATIONS, observe.BREACHES):
                assert name in text, f"{name} not served yet"
            return text

        text = await eventually(counted, timeout=20)
    sent = [line for line in text.splitlines() if line.startswith(observe.REFERRALS_SENT)]
    assert any('office="bp3mi_kalsel"' in line for line in sent), sent
    tasks = [line for line in text.splitlines() if line.startswith(observe.MANUAL_TASKS)]
    assert any('agency="kbri' in line for line in tasks), tasks
    escalations = [line for line in text.splitlines() if line.startswith(observe.ESCALATIONS)]
    assert any('rule="referral"' in line for line in escalations), escalations
    breaches = [line for line in text.splitlines() if line.startswith(observe.BREACHES)]
    assert any('rule="S3"' in line and 'kind="warning"' in line for line in breaches), breaches
    assert case_id not in text  # counters are per office and rule, never per case


def _scrape(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=2) as response:
        return response.read().decode()


async def _lead_is(cases, case_id: str, office: str) -> None:
    assert (await cases.why(case_id)).lead_office == office
