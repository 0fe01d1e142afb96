"""Cases on a real Temporal server reaching the sandbox agencies over real HTTP on loopback.

Workers deliver through the adapters found by entry point (the `webhook` adapter with one shared
session) to a `Sandbox`; the sandbox's events come back through the stand-in gateway
(`sinergi.testing.receiver`) and are applied with `sinergi.cases.Cases`. For integration tests and
benchmarks: the sandbox's ledger proves what each office received, and how often.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from sinergi.activities.agencies import AgencyActivities
from sinergi.adapters.base import AdapterContext
from sinergi.adapters.registry import build_adapters
from sinergi.agencies import load_registry
from sinergi.cases import Cases
from sinergi.domain.agencies import AgencyRegistry
from sinergi.domain.policy import Policy
from sinergi.domain.views import CaseStatus
from sinergi.platform.secrets import DEV_SECRETS, ensure_dev_secrets
from sinergi.policies import load_policy
from sinergi.sandbox import Sandbox, SandboxOptions
from sinergi.testing.cases import event, intake
from sinergi.testing.receiver import EventReceiver, receiver_app
from sinergi.worker import build_workers, run_workers


class LiveAgencies:
    """What a test steers and inspects: the cases, the sandbox (and its ledger), the stand-in gateway."""

    def __init__(self, cases: Cases, registry: AgencyRegistry, sandbox: Sandbox, receiver: EventReceiver) -> None:
        self.cases = cases
        self.registry = registry
        self.sandbox = sandbox
        self.receiver = receiver
        self.opened: list[str] = []

    async def open(self, **overrides: Any) -> str:
        case_id = f"L-{uuid.uuid4().hex[:10].upper()}"
        await self.cases.open(intake(**overrides), case_id=case_id)
        self.opened.append(case_id)
        return case_id

    async def send(self, case_id: str, type_: str, source: str | None = None, **data: Any):
        return await self.cases.send(event(case_id, type_, source=source, **data))

    async def status(self, case_id: str) -> CaseStatus:
        return await self.cases.status(case_id)


@asynccontextmanager
async def live_agencies(client: Client, secrets_dir: Path, *, registry: AgencyRegistry | None = None,
                        options: SandboxOptions | None = None, policy: Policy | str = "default",
                        rate_limit: float | None = None) -> AsyncIterator[LiveAgencies]:
    """Sandbox, stand-in gateway and workers (on a fresh task queue), all stopped on exit."""
    import asyncio

    registry = registry or load_registry("sandbox")
    policy = load_policy(policy) if isinstance(policy, str) else policy
    secrets_file = secrets_dir / DEV_SECRETS
    ensure_dev_secrets(secrets_file, registry.offices.values())
    cases = Cases(client, f"live-{uuid.uuid4().hex[:8]}", policy)
    receiver = EventReceiver(cases, registry, secrets_file)
    runner = web.AppRunner(receiver_app(receiver), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    gateway_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    # The stand-in gateway serves no referral page: here the e-mail offices are played by webhook like the
    # others (the e-mail path, page and all, is the real gateway's: tests/integration/test_sandbox_email.py).
    sandbox_registry = registry.served_at("http://unused", every_office=True)
    sandbox = Sandbox(sandbox_registry, options, secrets_file=secrets_file)
    pointed = sandbox_registry.served_at(await sandbox.start())
    stop = asyncio.Event()
    live = LiveAgencies(cases, pointed, sandbox, receiver)
    try:
        async with aiohttp.ClientSession() as session:
            context = AdapterContext(callback_base_url=gateway_url, session=session, secrets_file=secrets_file)
            adapters = build_adapters(context, {o.adapter for o in pointed.offices.values()})
            activities = AgencyActivities(pointed, adapters, gateway_url, rate_limit=rate_limit)
            workers = asyncio.create_task(run_workers(
                build_workers(client, cases.task_queue, activities), stop))
            try:
                yield live
            finally:
                await terminate_running(cases, live.opened)
                stop.set()
                await workers
    finally:
        await sandbox.stop()
        await runner.cleanup()


async def terminate_running(cases: Cases, case_ids: list[str]) -> None:
    """Leave no case running on the shared server once its workers are gone."""
    for case_id in case_ids:
        handle = cases.handle(case_id)
        try:
            if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
                await handle.terminate("test finished")
        except RPCError:
            pass
