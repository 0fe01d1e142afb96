"""Building blocks for tests: sample intakes and events, and a harness running real workers."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client
from temporalio.worker import Interceptor

from sinergi.activities.agencies import AgencyActivities
from sinergi.adapters.base import AdapterContext, AgencyAdapter
from sinergi.adapters.sandbox import Ledger, SandboxAdapter
from sinergi.agencies import load_registry
from sinergi.cases import Cases
from sinergi.domain.agencies import AgencyRegistry
from sinergi.domain.events import parse_event
from sinergi.domain.intake import Intake
from sinergi.domain.limits import STRICT
from sinergi.domain.policy import Policy
from sinergi.platform.codec import EncryptionCodec, data_converter
from sinergi.platform.config import DEFAULT_CACHED_CASES
from sinergi.policies import load_policy
from sinergi.worker import build_workers, run_workers

SAMPLE_NAME = "Siti Rahmawati Contoh"
SAMPLE_PHONE = "+62 812 5550 1234"
SAMPLE_DOB = "2001-03-14"
# Intake overrides: an adult found at home, not a migrant worker (no mission abroad, no child services).
ADULT_DOMESTIC = {"situation": {"location_country": "ID", "is_pmi": False}}


def intake(**overrides: Any) -> Intake:
    """A valid intake of an adult Indonesian PMI woman back from Malaysia; override any section."""
    raw: dict[str, Any] = {
        "province": "KALSEL", "regency": "Kabupaten Banjar", "received_at": "2026-11-27T08:00:00+08:00",
        "source": {"agency": "bp3mi", "channel": "debarkation"},
        "person": {"full_name": SAMPLE_NAME, "sex": "F", "date_of_birth": SAMPLE_DOB, "nationality": "ID",
                   "phone": SAMPLE_PHONE, "home_regency": "Kabupaten Banjar"},
        "situation": {"location_country": "MY", "exploitation": ["forced_labour"], "sector": "domestic_work",
                      "means_of_control": ["withholds_documents"], "is_pmi": True, "procedural": False},
        "consent": {"services": True, "data_sharing": True, "legal": True, "recorded_by": "officer-17"},
        "flags": {"sexual_exploitation": False},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return Intake.model_validate(raw, context=STRICT)


def event(case_id: str, type_: str, event_id: str | None = None, source: str | None = None, **data: Any):
    raw = {"event_id": event_id or f"evt-{uuid.uuid4().hex[:12]}", "case_id": case_id, "type": type_,
           "occurred_at": datetime.now(UTC).isoformat(), "data": data}
    if source:
        raw["source"] = source
    return parse_event(raw)


# A fixed, public, test-only key: histories recorded by tests (tests/replay/) must stay decodable. Never
# use it for real cases; real keys live in a keys file created by `sinergi dev` or by the operator.
TEST_KEY_ID = "test-only"
TEST_KEY = base64.b64decode("c2luZXJnaS10ZXN0LW9ubHkta2V5LW5vdC1zZWNyZXQ=")


def sample_codec() -> EncryptionCodec:
    return EncryptionCodec({TEST_KEY_ID: TEST_KEY}, TEST_KEY_ID)


# The worker's converter, as `sinergi worker` has it: it reads no payload a key holder did not seal.
TEST_CONVERTER = data_converter(EncryptionCodec({TEST_KEY_ID: TEST_KEY}, TEST_KEY_ID, sealed_only=True))


def server_clock(client: Client):
    """The time events are sealed at in tests: the time-skipping test server's virtual time, whose workflows
    judge an event's age by it (`authority.stale`); this machine's on a server without a test service."""
    from datetime import UTC, datetime

    from google.protobuf.empty_pb2 import Empty
    from temporalio.service import RPCError, RPCStatusCode

    real = [False]

    async def now() -> datetime:
        if not real[0]:
            try:
                answer = await client.test_service.get_current_time(Empty())
                return answer.time.ToDatetime(tzinfo=UTC)
            except RPCError as exc:
                if exc.status != RPCStatusCode.UNIMPLEMENTED:
                    raise  # a test server that did not answer: not a reason to seal with another clock
                real[0] = True  # the dev server: real time
        return datetime.now(UTC)

    return now


class Harness:
    """Real workers on a fresh task queue, with an in-process sandbox ledger to inspect."""

    def __init__(self, client: Client, policy: Policy, registry: AgencyRegistry, ledger: Ledger) -> None:
        self.client = client
        self.task_queue = f"test-{uuid.uuid4().hex[:8]}"
        self.policy = policy
        self.registry = registry
        self.ledger = ledger
        self.cases = Cases(client, self.task_queue, policy, clock=server_clock(client))

    async def open(self, **overrides: Any) -> str:
        case_id = f"T-{uuid.uuid4().hex[:10].upper()}"
        await self.cases.open(intake(**overrides), case_id=case_id)
        return case_id

    async def send(self, case_id: str, type_: str, **data: Any):
        return await self.cases.send(event(case_id, type_, **data))


@asynccontextmanager
async def harness(client: Client, policy: Policy | str = "default", registry: AgencyRegistry | None = None,
                  max_cached_workflows: int = DEFAULT_CACHED_CASES, rate_limit: float | None = None,
                  interceptors: Sequence[Interceptor] = (), adapters: dict[str, AgencyAdapter] | None = None,
                  record=None):
    """A worker over the in-process sandbox; `max_cached_workflows=0` replays each case's whole history on
    every workflow task, as after an eviction or a worker restart; `rate_limit` as `[temporal]
    agency_rate_limit` (each agency kind's calls on a queue of its own); `interceptors` for the main worker;
    `adapters` replace the stand-in for those adapter names (a real `email` adapter, say); `record` the case
    record its cases write to (an `AsyncCaseRecord`; None: their facts are not kept)."""
    import asyncio

    ledger = Ledger()
    registry = registry or load_registry("sandbox")
    policy = load_policy(policy) if isinstance(policy, str) else policy
    h = Harness(client, policy, registry, ledger)
    # The in-process sandbox stands in for every adapter the registry names (the shipped registry says
    # `webhook`): workflow tests inspect its ledger; tests over real HTTP use `sinergi.testing.live`.
    stand_in = SandboxAdapter(AdapterContext(callback_base_url="http://127.0.0.1:1"), ledger)
    in_use = {name: stand_in for name in {"sandbox", *(o.adapter for o in registry.offices.values())}}
    activities = AgencyActivities(registry, {**in_use, **(adapters or {})}, "http://127.0.0.1:1",
                                  rate_limit=rate_limit, record=record)
    stop = asyncio.Event()
    task = asyncio.create_task(run_workers(build_workers(client, h.task_queue, activities,
                                                         max_cached_workflows=max_cached_workflows,
                                                         interceptors=interceptors), stop))
    try:
        yield h
    finally:
        stop.set()
        await task


async def dev_server_suggesting_continue_as_new(after_events: int):
    """A real dev server (in memory) whose cases are told to continue as new after `after_events` history
    events, so a short test sees continue-as-new happen; the caller shuts it down."""
    from temporalio.testing import WorkflowEnvironment

    from sinergi.platform.binaries import temporal_cli
    from sinergi.platform.temporal import search_attribute_flags

    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(), data_converter=TEST_CONVERTER,
        dev_server_extra_args=[*search_attribute_flags(), "--headless", "--dynamic-config-value",
                               f"limit.historyCount.suggestContinueAsNew={after_events}"])


async def sealed_body(body: dict) -> dict:
    """A codec-server body (`{"payloads": [...]}`, protobuf JSON) sealed with the test key, as a key holder (the
    worker, the gateway) seals it: what a case's history holds."""
    from google.protobuf import json_format
    from temporalio.api.common.v1 import Payloads

    payloads = json_format.ParseDict(body, Payloads()).payloads
    return {"payloads": [json_format.MessageToDict(p) for p in await sample_codec().encode(list(payloads))]}
