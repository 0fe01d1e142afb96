"""sinergi wired as in production, in this process, so an in-memory span exporter sees every part of it.

`traced_stack` runs on a real Temporal server: workers on a client from `sinergi.platform.temporal.connect` (the
tracing interceptor) with the worker's traced HTTP session (`sinergi.bootstrap.agency_activities`), the real
gateway on loopback (as tests/integration/gateway_kit.py serves it) and the sandbox agencies
(`sinergi.sandbox.Sandbox`). `stack.cli(...)` runs a `sinergi` command in-process, as an operator would.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner, Result
from gateway_kit import resources_for, serve_app
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.runtime import Runtime

from sinergi.agencies import load_registry
from sinergi.bootstrap import agency_activities
from sinergi.cases import Cases
from sinergi.cli import cli
from sinergi.domain.intake import Intake
from sinergi.gateway import TemporalLink
from sinergi.platform import telemetry
from sinergi.platform.codec import ensure_keys_file
from sinergi.platform.config import Settings, load_settings
from sinergi.platform.secrets import DEV_SECRETS, ensure_dev_secrets
from sinergi.platform.temporal import connect
from sinergi.policies import load_policy
from sinergi.sandbox import Sandbox, SandboxOptions
from sinergi.testing.live import terminate_running
from sinergi.worker import build_workers, run_workers

BRISK = SandboxOptions(delay=0.02, jitter=0.02, retry_attempts=10, retry_interval=0.1, retry_max_interval=1.0,
                       wait_timeout=20.0, followups=1, seed=11)


class Spans:
    """Every span this process ends, as exported (through the personal-data filter) and as made (raw)."""

    def __init__(self) -> None:
        self.exported = InMemorySpanExporter()
        self.raw = InMemorySpanExporter()

    def install(self) -> None:
        provider = telemetry.setup(Settings(), telemetry.CLI)
        assert isinstance(trace.get_tracer_provider(), TracerProvider)
        telemetry.add_exporter(self.exported, batch=False)
        provider.add_span_processor(SimpleSpanProcessor(self.raw))

    def clear(self) -> None:
        self.exported.clear()
        self.raw.clear()

    def named(self, name: str, trace_id: int | None = None) -> list[ReadableSpan]:
        return [s for s in self.exported.get_finished_spans()
                if s.name == name and (trace_id is None or s.context.trace_id == trace_id)]


_SPANS: Spans | None = None


def spans() -> Spans:
    """The process's span capture (installed once: a process has one tracer provider)."""
    global _SPANS
    if _SPANS is None:
        _SPANS = Spans()
        _SPANS.install()
    return _SPANS



@dataclass
class TracedStack:
    settings: Settings
    config_file: Path
    cases: Cases
    sandbox: Sandbox
    gateway_url: str
    folder: Path
    opened: list[str] = field(default_factory=list)

    async def cli(self, *args: str) -> Result:
        """`sinergi <args>` in-process (in a thread: the command runs its own event loop)."""
        runner = CliRunner()
        result = await asyncio.to_thread(runner.invoke, cli, list(args),
                                         env={"SINERGI_CONFIG": str(self.config_file)}, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    async def open_with_cli(self, intake: Intake) -> str:
        path = self.folder / f"intake-{uuid.uuid4().hex[:6]}.json"
        path.write_text(intake.model_dump_json(), "utf-8")
        case_id = f"TR-{uuid.uuid4().hex[:10].upper()}"
        result = await self.cli("case", "open", str(path), "--id", case_id, "--json")
        assert json.loads(result.stdout)["case_id"] == case_id
        self.opened.append(case_id)
        return case_id


def _write_config(folder: Path, address: str, namespace: str, task_queue: str, policy: str) -> Path:
    keys = folder / "keys.json"
    ensure_keys_file(keys, "k1")
    path = folder / "sinergi.toml"
    path.write_text(f"""
[temporal]
address = "{address}"
namespace = "{namespace}"
task_queue = "{task_queue}"

[codec]
key_id = "k1"
keys_file = "{keys}"

[dev]
state_dir = "{folder / 'state'}"

[policy]
file = "{policy}"
""", "utf-8")
    return path


@asynccontextmanager
async def traced_stack(server: Client, folder: Path, options: SandboxOptions = BRISK,
                       runtime: Runtime | None = None, policy: str = "default") -> AsyncIterator[TracedStack]:
    """Workers, gateway and sandbox agencies for `server`'s Temporal, configured by a sinergi.toml in `folder`."""
    target = server.service_client.config.target_host
    config_file = _write_config(folder, target, server.namespace, f"traced-{uuid.uuid4().hex[:8]}", policy)
    settings = load_settings(config_file, env={})
    client = await connect(settings, runtime=runtime)
    cases = Cases(client, settings.temporal.task_queue, load_policy(settings.policy.file))
    secrets_file = settings.dev.state_dir / DEV_SECRETS
    registry = load_registry("sandbox")
    ensure_dev_secrets(secrets_file, registry.offices.values())  # shared by workers, gateway and sandbox
    stop = asyncio.Event()
    resources = resources_for(secrets_file, TemporalLink.to(cases), server.namespace)
    async with Sandbox(registry, options, secrets_file=secrets_file) as sandbox, AsyncExitStack() as gateway:
        _, (host, port) = await gateway.enter_async_context(serve_app(resources))
        gateway_url = f"http://{host}:{port}"
        settings = settings.model_copy(update={"gateway": settings.gateway.model_copy(
            update={"public_url": gateway_url})})
        async with agency_activities(settings, registry=registry.served_at(sandbox.url)) as activities:
            workers = asyncio.create_task(run_workers(build_workers(client, settings.temporal.task_queue,
                                                                    activities), stop))
            stack = TracedStack(settings, config_file, cases, sandbox, gateway_url, folder)
            try:
                yield stack
            finally:
                # Quiet before the cases are terminated: the agencies stop sending, and the gateway finishes what
                # they sent while the workers still run. An event reaching its case as it is terminated waits out
                # the gateway's apply timeout, and the gateway's shutdown waits for it (10 s here).
                await sandbox.stop()
                await gateway.aclose()
                await terminate_running(cases, stack.opened)
                stop.set()
                await workers


