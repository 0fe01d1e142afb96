"""`sinergi dev`: the embedded default — dev server (SQLite under `.sinergi/`), worker, and the rest.

The Temporal dev server runs as a child process in its own session, so the terminal's Ctrl-C reaches
only us; we then stop every child ourselves, in order, and leave no orphan behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import structlog

from sinergi import telemetry
from sinergi.binaries import temporal_cli
from sinergi.codec import ensure_keys_file
from sinergi.config import Settings
from sinergi.console import UNREACHABLE, UserError
from sinergi.temporal import connect, ensure_search_attributes, search_attribute_flags

log = structlog.get_logger(__name__)


class DevLock:
    """One `sinergi dev` per state folder: a second one says so and exits 3."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "dev.lock"
        self._file = None

    def acquire(self) -> None:
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the life of the process
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise UserError(f"sinergi dev is already running (pid {holder}, lock {self.path})", UNREACHABLE,
                            hint="stop it with Ctrl-C in its terminal, or use another state folder") from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


def start_temporal(settings: Settings, log_file: Path) -> subprocess.Popen:
    host, port = _split_address(settings.temporal.address)
    db = settings.dev.db_file
    db.parent.mkdir(parents=True, exist_ok=True)
    command = [
        temporal_cli(), "server", "start-dev", "--ip", host, "--port", str(port),
        "--ui-port", str(settings.dev.ui_port), "--db-filename", str(db), "--namespace",
        settings.temporal.namespace, "--ui-codec-endpoint", f"{settings.gateway.base_url}/codec",
        "--ui-disable-news-fetch", *search_attribute_flags(),
    ]
    out = open(log_file, "ab")  # noqa: SIM115 - owned by the child for its lifetime
    return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def _wait_for_temporal(settings: Settings, process: subprocess.Popen, deadline: float):
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserError(f"the Temporal dev server exited with code {process.returncode}; see its log in "
                            f"{settings.dev.state_dir / 'temporal.log'}", UNREACHABLE)
        try:
            return await connect(settings, runtime=telemetry.worker_runtime(settings))
        except RuntimeError as exc:
            last = exc
            await asyncio.sleep(0.3)
    raise UserError(f"the Temporal dev server did not answer within 30 s: {last}", UNREACHABLE)


def ensure_codec_token(settings: Settings) -> str:
    """The bearer token of the codec endpoint: from its env var, else generated once under the state folder."""
    name = settings.gateway.codec_token_env
    if os.environ.get(name):
        return os.environ[name]
    path = settings.dev.state_dir / "codec-token"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32), "utf-8")
        path.chmod(0o600)
    token = path.read_text("utf-8").strip()
    os.environ[name] = token  # the in-process gateway reads it from here
    return token


def run_dev(settings: Settings, *, sandbox: bool = True, demo: int = 0) -> None:
    if settings.gateway.host in ("127.0.0.1", "localhost", "::1"):
        # The dev UI cannot send the codec token; on loopback only, trust its origin (GatewaySettings).
        settings = settings.model_copy(update={"gateway": settings.gateway.model_copy(
            update={"codec_trust_local_ui": True})})
    state = settings.dev.state_dir
    lock = DevLock(state)  # held (open) until this function returns
    lock.acquire()
    ensure_keys_file(settings.codec.keys_file, settings.codec.key_id)
    ensure_codec_token(settings)
    process = start_temporal(settings, state / "temporal.log")
    try:
        asyncio.run(_serve(settings, process, sandbox=sandbox, demo=demo))
    finally:
        stop_process(process)
        lock.release()
        click.echo("sinergi dev stopped.", err=True)


async def _serve(settings: Settings, process: subprocess.Popen, *, sandbox: bool, demo: int) -> None:
    from sinergi.cases import Cases
    from sinergi.demo import run_demo
    from sinergi.domain.policy import load_policy
    from sinergi.gateway.serve import serve as serve_gateway
    from sinergi.sandbox import SandboxOptions
    from sinergi.sandbox import serve as serve_sandbox
    from sinergi.worker import agency_activities, build_workers, run_workers

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await _wait_for_temporal(settings, process, time.monotonic() + 30)
    await ensure_search_attributes(client, settings.temporal.namespace)
    cases = Cases(client, settings.temporal.task_queue, load_policy(settings.policy.file))
    async with agency_activities(settings) as activities:
        tasks = [
            asyncio.create_task(run_workers(build_workers(client, settings.temporal.task_queue, activities,
                                            max_cached_workflows=settings.temporal.max_cached_workflows), stop)),
            asyncio.create_task(serve_gateway(settings, stop, cases)),
        ]
        if sandbox:
            tasks.append(asyncio.create_task(serve_sandbox(settings, SandboxOptions(), stop)))
        tasks.append(asyncio.create_task(_watch(process, stop)))
        await asyncio.sleep(0.5)  # let the gateway and sandbox bind before saying where they are
        _banner(settings, sandbox)
        if demo:
            tasks.append(asyncio.create_task(
                run_demo(Cases(client, settings.temporal.task_queue, load_policy("demo")), demo, stop)))
        await stop.wait()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("dev_component_failed", error=repr(result))


async def _watch(process: subprocess.Popen, stop: asyncio.Event) -> None:
    while process.poll() is None:
        if stop.is_set():
            return
        await asyncio.sleep(0.5)
    click.echo(f"the Temporal dev server exited (code {process.returncode}); stopping.", err=True)
    stop.set()


def _banner(settings: Settings, sandbox: bool) -> None:
    host, _ = _split_address(settings.temporal.address)
    lines = [
        click.style("sinergi dev is running", bold=True, fg="green"),
        f"  Temporal UI   http://{host}:{settings.dev.ui_port}/namespaces/{settings.temporal.namespace}/workflows",
        f"  Temporal      {settings.temporal.address} (namespace {settings.temporal.namespace}, "
        f"data in {settings.dev.db_file})",
        f"  Gateway       {settings.gateway.base_url}  (agency events: /v1/agencies/<office>/events, "
        "OpenAPI: /v1/openapi.json)",
        "  Agencies      "
        f"{f'sandbox agencies on {settings.dev.sandbox_base_url}' if sandbox else 'configured adapters'}"
        f" ({settings.agencies.file})",
        f"  Codec token   {settings.dev.state_dir / 'codec-token'} (bearer token of {settings.gateway.base_url}/codec)",
        *([f"  Metrics       http://{settings.telemetry.metrics_address}/metrics (worker, Prometheus)"]
          if settings.telemetry.metrics_address else []),
        "  Open a case   sinergi case open examples/intake-pmi-malaysia.json",
        "  Stop          Ctrl-C",
    ]
    click.echo("\n".join(lines), err=False)
    sys.stdout.flush()
