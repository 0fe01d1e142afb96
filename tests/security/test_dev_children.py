"""Issue 19 item 5: `sinergi dev` owns its Temporal dev server, even when it is killed with SIGKILL.

The real program (`.venv/bin/sinergi dev --no-sandbox`) on free ports with a temporary state folder, as
tests/e2e/test_dev.py runs it. Two starts in all: one killed with SIGKILL (its server must die with it and
free the ports a next start needs), one that finds a server an earlier run left behind (its pid file) and
clears it before starting its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from sinergi.devserver import start_temporal
from sinergi.platform.config import load_settings
from sinergi.testing.stack import free_port

pytestmark = pytest.mark.slow

SINERGI = str(Path(sys.executable).parent / "sinergi")
START_TIMEOUT = 45.0  # the dev server, worker and gateway on a loaded two-core machine
GONE_TIMEOUT = 5.0
PID_FILE = "temporal.pid"  # under the state folder (sinergi.devserver)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def alive(pid: int) -> bool:
    """Running (not a zombie waiting for its parent to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def config(tmp_path) -> tuple[Path, dict[str, int]]:
    ports = {name: free_port() for name in ("temporal", "ui", "gateway", "mail", "metrics")}
    state = tmp_path / "state"
    path = tmp_path / "sinergi.toml"
    path.write_text(f"""
[temporal]
address = "127.0.0.1:{ports['temporal']}"

[gateway]
port = {ports['gateway']}

[dev]
ui_port = {ports['ui']}
mail_port = {ports['mail']}
state_dir = "{state}"
db_file = "{state / 'temporal-children.db'}"

[codec]
keys_file = "{state / 'keys.json'}"

[telemetry]
log_level = "WARNING"
metrics_address = "127.0.0.1:{ports['metrics']}"
""")
    return path, ports


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_") and k != "OTEL_EXPORTER_OTLP_ENDPOINT"}
    return {**env, "HOME": str(home), "PYTHONUNBUFFERED": "1"}


async def start_dev(config: Path, home: Path) -> tuple[asyncio.subprocess.Process, str]:
    """`sinergi dev --no-sandbox`, once its banner is out; and what it said on stderr meanwhile."""
    process = await asyncio.create_subprocess_exec(
        SINERGI, "dev", "--no-sandbox", "--config", str(config), env=env_for(home), cwd=home,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = await asyncio.wait_for(process.stdout.readline(), max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        if not line:
            break
        seen.append(line.decode(errors="replace"))
        if "Stop" in seen[-1]:
            # Whatever it said on stderr so far (it writes nothing more while it runs).
            err = await _available(process.stderr)
            return process, err
    process.kill()
    _, err = await process.communicate()
    raise AssertionError(f"no banner within {START_TIMEOUT} s\n{''.join(seen)}\n--- stderr\n{err.decode()}")


async def _available(stream: asyncio.StreamReader) -> str:
    chunks = []
    with contextlib.suppress(TimeoutError):
        while chunk := await asyncio.wait_for(stream.read(65536), 0.5):
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def temporal_pid(config: Path) -> int:
    """The dev server on this test's database, found in /proc (as tests/e2e/test_dev.py finds it)."""
    db = str(load_settings(config, env={}).dev.db_file)
    found = [int(entry.name) for entry in Path("/proc").iterdir()
             if entry.name.isdigit() and alive(int(entry.name)) and _mentions(entry, db)]
    assert len(found) == 1, f"expected one dev server on {db}, found {found}"
    return found[0]


def _mentions(entry: Path, needle: str) -> bool:
    try:
        return needle in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False


@contextlib.contextmanager
def killing_leftovers(*pids_of):
    try:
        yield
    finally:
        for get in pids_of:
            with contextlib.suppress(Exception):
                os.kill(get(), signal.SIGKILL)


async def test_sigkill_of_sinergi_dev_takes_its_temporal_server_along_and_frees_its_ports(config, tmp_path):
    path, ports = config
    process, _ = await start_dev(path, tmp_path)
    server = temporal_pid(path)
    with killing_leftovers(lambda: server):
        try:
            assert alive(server) and port_open(ports["temporal"])
            process.kill()  # SIGKILL: no handler, no `finally` runs in sinergi dev
            await process.wait()
            assert wait_until(lambda: not alive(server), GONE_TIMEOUT), \
                f"the Temporal dev server (pid {server}) outlived the SIGKILLed sinergi dev"
            # What the next `sinergi dev` needs: the server's and the UI's ports free again.
            assert wait_until(lambda: not port_open(ports["temporal"]) and not port_open(ports["ui"]), GONE_TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_the_next_start_clears_a_server_an_earlier_run_left_behind(config, tmp_path):
    path, ports = config
    settings = load_settings(path, env={})
    settings.dev.state_dir.mkdir(parents=True)
    # Left behind as an older sinergi dev would have (killed, its server still running, its pid file there).
    stale = start_temporal(settings, tmp_path / "stale-temporal.log")
    with killing_leftovers(lambda: stale.pid):
        assert (settings.dev.state_dir / PID_FILE).read_text().split()[0] == str(stale.pid)
        assert wait_until(lambda: port_open(ports["temporal"]), 20), "the stale server did not start"
        # Its parent gone, a real leftover is reaped by init the moment it exits. Here it is this test's child:
        # reaped meanwhile, or it would stay a zombie, and sinergi dev would wait out its 10 s before SIGKILL.
        reaped = asyncio.create_task(asyncio.to_thread(stale.wait))
        process, stderr = await start_dev(path, tmp_path)
        try:
            await asyncio.wait_for(reaped, GONE_TIMEOUT)
            assert f"pid {stale.pid}" in stderr and "left running" in stderr, stderr
            assert stale.poll() is not None, "the stale server should have been stopped"
            fresh = temporal_pid(path)
            assert fresh != stale.pid and alive(fresh) and port_open(ports["temporal"])
            process.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(process.wait(), 25) == 0
            assert not (settings.dev.state_dir / PID_FILE).exists(), "a clean stop leaves no pid file"
            assert wait_until(lambda: not alive(fresh), GONE_TIMEOUT)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
