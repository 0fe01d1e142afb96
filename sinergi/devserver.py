"""`sinergi dev`: the embedded default — dev server (SQLite under `.sinergi/`), worker, and the rest.

The Temporal dev server runs as a child process in its own session, so the terminal's Ctrl-C reaches
only us; we then stop every child ourselves, in order, and leave no orphan behind. Killed outright
(SIGKILL), we cannot stop it: the kernel does (`PR_SET_PDEATHSIG`, Linux), and in case it did not (another
OS, or a server from an older version), its pid file under the state folder lets the next `sinergi dev`
find it and stop it, after checking that the pid is still that server and still holds its port.

The Temporal UI cannot send the codec's bearer token: the banner prints a secret link instead
(sinergi.gateway.devlogin); an `Origin` header alone is never trusted.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
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

from sinergi.commands.console import BAD_INPUT, UNREACHABLE, UserError
from sinergi.commands.language import _
from sinergi.gateway.devlogin import DevUiLogin
from sinergi.platform import telemetry
from sinergi.platform.binaries import temporal_cli
from sinergi.platform.codec import ensure_keys_file
from sinergi.platform.config import Settings
from sinergi.platform.temporal import connect, ensure_search_attributes, search_attribute_flags

log = structlog.get_logger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PID_FILE = "temporal.pid"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


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
            raise UserError(_("sinergi dev is already running (pid {pid}, lock {lock})").format(
                pid=holder, lock=self.path), UNREACHABLE,
                hint=_("stop it with Ctrl-C in its terminal, or use another state folder")) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _split_address(address: str) -> tuple[str, int]:
    host, _sep, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


def start_temporal(settings: Settings, log_file: Path) -> subprocess.Popen:
    """Start the dev server; it dies with the calling thread (call from the main thread) and leaves a pid file."""
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
    # The Temporal server needs none of sinergi's secrets: its environment (readable in /proc by any process
    # of the same user for as long as it runs) leaves out the codec token and the offices' secrets.
    env = {k: v for k, v in os.environ.items() if k != settings.gateway.codec_token_env and
           not (k.startswith("SINERGI_") and k.endswith(("_IN", "_OUT", "_TOKEN", "_SECRET", "_PASSWORD")))}
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                               start_new_session=True, preexec_fn=_die_with(os.getpid()))
    _pid_file(settings).write_text(f"{process.pid} {_start_time(process.pid)}\n", "utf-8")
    return process


def _die_with(parent: int):
    """The child's last step before exec: be killed when the thread that forked it dies, however it dies."""
    try:  # looked up here, in the parent: loading a library between fork and exec can deadlock
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: the pid file is the fallback
        prctl = None

    def arrange() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect: nobody would signal us
            os._exit(1)
    return arrange


def _pid_file(settings: Settings) -> Path:
    return settings.dev.state_dir / PID_FILE


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (/proc): with the pid, names one process for good."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def clear_stale_temporal(settings: Settings, timeout: float = 10.0) -> None:
    """Stop a dev server an earlier `sinergi dev` on this state folder started and left running.

    Called with the dev lock held, so no live `sinergi dev` owns it. Only a process that is still that very
    server (same pid *and* start time, a `temporal server start-dev` on our database) and still listens on
    our port is stopped; a pid file naming anything else is just removed.
    """
    path = _pid_file(settings)
    try:
        pid_text, _sep, started = path.read_text("utf-8").strip().partition(" ")
        pid = int(pid_text)
    except (OSError, ValueError):
        path.unlink(missing_ok=True)
        return
    _host, port = _split_address(settings.temporal.address)
    if _start_time(pid) == started and _is_our_server(pid, settings) and port in _listening_ports(pid):
        click.echo(_("sinergi dev: stopping the Temporal dev server an earlier sinergi dev left running "
                     "(pid {pid}, port {port}).").format(pid=pid, port=port), err=True)
        _terminate(pid, timeout)
    path.unlink(missing_ok=True)


def _is_our_server(pid: int, settings: Settings) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return False
    return ("start-dev" in args and Path(args[0]).name == Path(temporal_cli()).name
            and str(settings.dev.db_file) in args)


def _listening_ports(pid: int) -> set[int]:
    """The TCP ports `pid` listens on: its socket inodes (/proc/<pid>/fd) matched in /proc/net/tcp{,6}."""
    try:
        inodes = {os.readlink(fd)[len("socket:["):-1] for fd in Path(f"/proc/{pid}/fd").iterdir()
                  if os.readlink(fd).startswith("socket:[")}
    except OSError:
        return set()
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for row in Path(table).read_text().splitlines()[1:]:
                fields = row.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _terminate(pid: int, timeout: float) -> None:
    """SIGTERM, then SIGKILL after `timeout`; returns once the process is gone (it is not our child)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while Path(f"/proc/{pid}").exists() and _state(pid) != "Z":  # a zombie has let go of its ports
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "?"


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
            raise UserError(_("the Temporal dev server exited with code {code}; see its log in {log}").format(
                code=process.returncode, log=settings.dev.state_dir / "temporal.log"), UNREACHABLE)
        try:
            return await connect(settings, runtime=telemetry.worker_runtime(settings), keys=True, sealed_only=True)
        except RuntimeError as exc:
            last = exc
            await asyncio.sleep(0.3)
    raise UserError(_("the Temporal dev server did not answer within 30 s: {error}").format(error=last), UNREACHABLE)


def ensure_codec_token(settings: Settings) -> str:
    """The bearer token of the codec endpoint: from its env var, else generated once under the state folder."""
    name = settings.gateway.codec_token_env
    if os.environ.get(name):
        return os.environ[name]
    path = settings.dev.state_dir / "codec-token"
    if not path.exists():
        # Created readable by its owner only from the first byte (no window between write and chmod).
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as f:
            f.write(secrets.token_urlsafe(32))
    token = path.read_text("utf-8").strip()
    os.environ[name] = token  # the in-process gateway reads it from here
    return token


def ui_url(settings: Settings) -> str:
    host, _port = _split_address(settings.temporal.address)
    return f"http://{host}:{settings.dev.ui_port}/namespaces/{settings.temporal.namespace}/workflows"


def dev_gateway_settings(settings: Settings) -> Settings:
    """The gateway as `sinergi dev` runs it: UI origins from `[dev] ui_port` and, on loopback, the UI link."""
    gateway = settings.gateway
    # The UI's real origins; origins configured on purpose are kept, the 8233 defaults are not.
    configured = gateway.ui_origins if "ui_origins" in gateway.model_fields_set else []
    gateway = gateway.model_copy(update={"ui_origins": list(dict.fromkeys(settings.dev.ui_origins + configured))})
    if gateway.host in LOOPBACK_HOSTS:  # a link on a gateway other machines can reach would be a shared secret
        gateway = gateway.with_dev_ui_login(DevUiLogin(ui_url=ui_url(settings), codec_url=f"{gateway.base_url}/codec"))
    return settings.model_copy(update={"gateway": gateway})


def dev_mail_settings(settings: Settings) -> Settings:
    """Unless `[email] host` is configured, the e-mail offices' mail goes to a catcher on loopback, listed
    at the gateway's `/dev/mail` (SPEC: `sinergi dev` runs a local mail catcher)."""
    if settings.email.host is not None:
        return settings  # a relay is configured: mail goes there, as in production
    from sinergi.bootstrap import loopback_relay
    from sinergi.gateway.devmail import Mailbox

    return settings.model_copy(update={"email": loopback_relay(settings),
                                       "gateway": settings.gateway.with_dev_mailbox(Mailbox())})


def run_dev(settings: Settings, *, sandbox: bool = True, demo: int = 0, people: frozenset[str] = frozenset()) -> None:
    settings = dev_mail_settings(dev_gateway_settings(settings))
    state = settings.dev.state_dir
    lock = DevLock(state)  # held (open) until this function returns
    lock.acquire()
    ensure_keys_file(settings.codec.keys_file, settings.codec.key_id)
    ensure_codec_token(settings)
    clear_stale_temporal(settings)
    process = start_temporal(settings, state / "temporal.log")  # from this (main) thread: see _die_with
    try:
        asyncio.run(_serve(settings, process, sandbox=sandbox, demo=demo, people=people))
    finally:
        stop_process(process)
        _pid_file(settings).unlink(missing_ok=True)
        lock.release()
        click.echo(_("sinergi dev stopped."), err=True)


async def _serve(settings: Settings, process: subprocess.Popen, *, sandbox: bool, demo: int,
                 people: frozenset[str] = frozenset()) -> None:
    from sinergi.bootstrap import agency_activities, worker_version
    from sinergi.cases import Cases
    from sinergi.demo import run_demo
    from sinergi.gateway.serve import serve as serve_gateway
    from sinergi.policies import load_policy
    from sinergi.sandbox import SandboxOptions
    from sinergi.sandbox import serve as serve_sandbox
    from sinergi.worker import build_workers, run_workers

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await _wait_for_temporal(settings, process, time.monotonic() + 30)
    await ensure_search_attributes(client, settings.temporal.namespace)
    cases = Cases(client, settings.temporal.task_queue, load_policy(settings.policy.file))
    catcher = None
    if settings.gateway.dev_mailbox is not None:
        from sinergi.gateway.devmail import start_catcher

        try:
            catcher = await start_catcher(settings.gateway.dev_mailbox, "127.0.0.1", settings.dev.mail_port)
        except OSError as exc:
            raise UserError(_("the mail catcher cannot listen on 127.0.0.1:{port}: {error}").format(
                port=settings.dev.mail_port, error=exc.strerror), BAD_INPUT,
                hint=_("set [dev] mail_port (or SINERGI_DEV_MAIL_PORT) to a free port")) from exc
    # `sinergi dev` makes its own build current, even one replaced before (another branch checked out again).
    version = worker_version(settings, dev=True)
    async with agency_activities(settings) as activities:
        tasks = [
            asyncio.create_task(run_workers(build_workers(client, settings.temporal.task_queue, activities,
                                                          max_cached_workflows=settings.temporal.max_cached_workflows,
                                                          version=version), stop, version=version)),
            asyncio.create_task(serve_gateway(settings, stop, cases)),
        ]
        if sandbox:
            tasks.append(asyncio.create_task(serve_sandbox(settings, SandboxOptions(people=people), stop,
                                                           mailbox=settings.gateway.dev_mailbox)))
        tasks.append(asyncio.create_task(_watch(process, stop)))
        await asyncio.sleep(0.5)  # let the gateway and sandbox bind before saying where they are
        _banner(settings, sandbox, people)
        if demo:
            tasks.append(asyncio.create_task(
                run_demo(Cases(client, settings.temporal.task_queue, load_policy("demo")), demo, stop)))
        await stop.wait()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("dev_component_failed", error=repr(result))
    if catcher is not None:
        catcher.close()
        await catcher.wait_closed()


async def _watch(process: subprocess.Popen, stop: asyncio.Event) -> None:
    while process.poll() is None:
        if stop.is_set():
            return
        await asyncio.sleep(0.5)
    click.echo(_("the Temporal dev server exited (code {code}); stopping.").format(code=process.returncode), err=True)
    stop.set()


def _email_offices(settings: Settings, sandbox: bool, people: frozenset[str]) -> list[str]:
    """Who answers each e-mail office's mail: a person (with the office's dev passcode, to type on the page)
    or the sandbox."""
    from sinergi.bootstrap import office_registry
    from sinergi.platform.secrets import DEV_SECRETS, MissingSecret, office_passcode

    lines = []
    for office in office_registry(settings).offices.values():
        if office.adapter != "email":
            continue
        if sandbox and office.id not in people:
            lines.append(f"    {office.id:<22} " + _("answered by the sandbox"))
            continue
        try:
            code = office_passcode(office, secrets_file=settings.dev.state_dir / DEV_SECRETS)
        except MissingSecret:
            code = _("not set ({variable})").format(variable=office.settings.get("passcode_env", "passcode_env"))
        lines.append(f"    {office.id:<22} " + _("yours to answer: passcode {passcode}").format(passcode=code))
    return ["  " + _("E-mail offices (the link in each mail; the passcode on the page):"), *lines] if lines else []


def _records_where(settings: Settings) -> str:
    from sinergi.records import records_url

    url = records_url(settings)
    return url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url.split("@")[-1]


def _banner(settings: Settings, sandbox: bool, people: frozenset[str] = frozenset()) -> None:
    login = settings.gateway.dev_ui_login
    base = settings.gateway.base_url
    rows: list[tuple[str, str] | str] = [
        (_("Temporal UI"), ui_url(settings)),
        *([(_("Decode in UI"), _("{link}  (secret: open it in your browser, once per run; it says how to let the UI "
                                 "use it; an engineer's view: names and other personal fields masked)").format(
            link=login.link(base)))] if login is not None else []),
        (_("Temporal"), _("{address} (namespace {namespace}, data in {file})").format(
            address=settings.temporal.address, namespace=settings.temporal.namespace, file=settings.dev.db_file)),
        (_("Gateway"), _("{url}  (agency events: /v1/agencies/<office>/events, OpenAPI: /v1/openapi.json)").format(
            url=base)),
        (_("Agencies"), (_("sandbox agencies on {url}").format(url=settings.dev.sandbox_base_url) if sandbox
                         else _("configured adapters")) + f" ({settings.agencies.file})"),
        *([(_("Mail"), _("{url}/dev/mail  (the e-mail offices' mail, caught on 127.0.0.1:{port})").format(
            url=base, port=settings.dev.mail_port))] if settings.gateway.dev_mailbox is not None else []),
        *_email_offices(settings, sandbox, people),
        (_("Codec token"), _("{file} (bearer token of {url}/codec)").format(
            file=settings.dev.state_dir / "codec-token", url=base)),
        (_("Case record"), _("{where}  (sinergi report offices --format html --output r.html)").format(
            where=_records_where(settings))),
        *([(_("Metrics"), _("http://{address}/metrics (worker, Prometheus)").format(
            address=settings.telemetry.metrics_address))] if settings.telemetry.metrics_address else []),
        (_("Open a case"), "sinergi case open examples/intake-pmi-malaysia.json"),
        (_("Stop"), "Ctrl-C"),
    ]
    width = max(len(row[0]) for row in rows if isinstance(row, tuple)) + 2
    lines = [click.style(_("sinergi dev is running"), bold=True, fg="green"),
             *(f"  {row[0]:<{width}}{row[1]}" if isinstance(row, tuple) else row for row in rows)]
    click.echo("\n".join(lines), err=False)
    sys.stdout.flush()
