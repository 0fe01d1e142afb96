"""`sinergi dev` as an operator runs it (`make run`): started on free ports, stopped with Ctrl-C (SIGINT),
leaving no child process behind; a second one on the same state folder says so and exits 3. In between, a person
plays an e-mail office: a case is opened, its referral mail is read at /dev/mail, the link opened, the page
unlocked with the passcode the banner printed, the referral acknowledged and accepted, and `case status` shows it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from cli_kit import SINERGI, base_env, free_port, run_sinergi

from sinergi.sandbox.page_client import ReferralPageClient

pytestmark = pytest.mark.slow

START_TIMEOUT = 45.0  # the dev server, worker, gateway and sandbox on a loaded two-core machine
STOP_TIMEOUT = 25.0
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "intake-pmi-malaysia.json"


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def processes_mentioning(needle: str) -> list[tuple[int, str]]:
    """Live processes whose command line contains `needle` (from /proc: psutil is not a dependency)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next((line for line in (entry / "status").read_text().splitlines()
                          if line.startswith("State:")), "")
        except OSError:
            continue  # gone meanwhile
        if needle in cmdline and "zombie" not in state:
            found.append((int(entry.name), cmdline.strip()))
    return found


@pytest.fixture
def dev_config(tmp_path) -> tuple[Path, dict[str, int]]:
    ports = {name: free_port() for name in ("temporal", "ui", "sandbox", "gateway", "metrics", "mail")}
    state = tmp_path / "state"
    config = tmp_path / "sinergi.toml"
    config.write_text(f"""
[temporal]
address = "127.0.0.1:{ports['temporal']}"

[gateway]
port = {ports['gateway']}

[dev]
ui_port = {ports['ui']}
mail_port = {ports['mail']}
sandbox_port = {ports['sandbox']}
state_dir = "{state}"
db_file = "{state / 'temporal-e2e.db'}"

[codec]
keys_file = "{state / 'keys.json'}"

[telemetry]
metrics_address = "127.0.0.1:{ports['metrics']}"
log_level = "WARNING"
""")
    return config, ports


async def read_until(stream: asyncio.StreamReader, needle: str, deadline: float, seen: list[str]) -> bool:
    while time.monotonic() < deadline:
        try:
            line = await asyncio.wait_for(stream.readline(), max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            return False
        if not line:
            return False
        seen.append(line.decode(errors="replace"))
        if needle in seen[-1]:
            return True
    return False


async def test_dev_starts_prints_where_everything_is_and_stops_on_sigint_leaving_no_child(dev_config, tmp_path):
    config, ports = dev_config
    db = str(tmp_path / "state" / "temporal-e2e.db")
    env = base_env(tmp_path)
    cwd = tmp_path
    process = await asyncio.create_subprocess_exec(
        SINERGI, "dev", "--config", str(config), env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out: list[str] = []
    err_task = asyncio.create_task(process.stderr.read())
    try:
        started = await read_until(process.stdout, "Stop", time.monotonic() + START_TIMEOUT, out)
        banner = "".join(out)
        assert started, f"no banner within {START_TIMEOUT} s\n{banner}\n--- stderr\n" + (
            (await asyncio.wait_for(err_task, 5)).decode() if process.returncode is not None else "(running)")
        assert f"http://127.0.0.1:{ports['ui']}" in banner, banner  # the UI URL
        assert f"http://127.0.0.1:{ports['gateway']}" in banner, banner  # the gateway URL
        assert "Ctrl-C" in banner, banner  # how to stop
        assert "\x1b[" not in banner  # stdout is a pipe: no colour
        assert port_open(ports["temporal"]) and port_open(ports["gateway"])
        assert processes_mentioning(db), "the dev server should be running with the temp database"
        # No [email] host configured: the e-mail offices' mail is caught on loopback and listed.
        assert f"http://127.0.0.1:{ports['gateway']}/dev/mail" in banner, banner
        assert port_open(ports["mail"]), "the mail catcher should listen on [dev] mail_port"
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['gateway']}/dev/mail", timeout=5) as answer:
            assert answer.status == 200 and "sinergi dev" in answer.read().decode()
        await a_person_answers_an_email_referral(banner, config, ports, env, cwd)

        # A second `sinergi dev` on the same state folder says so and exits 3, leaving the first one alone.
        second = await run_sinergi("dev", "--config", str(config), env=env, cwd=cwd, timeout=30)
        assert second.code == 3, str(second)
        assert "already running" in second.stderr and "Traceback" not in second.stderr, str(second)
        assert process.returncode is None and port_open(ports["temporal"])

        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        stderr = (await asyncio.wait_for(err_task, 5)).decode()
        assert code == 0, f"exit {code}\n{stderr}"
        assert "Traceback" not in stderr, stderr
        assert "stopped" in stderr, stderr
        left = processes_mentioning(db)
        assert left == [], f"a child of `sinergi dev` outlived it: {left}"
        assert not port_open(ports["temporal"]), "the dev server's port is still open"
        assert not port_open(ports["gateway"]), "the gateway's port is still open"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for pid, _ in processes_mentioning(db):  # only ours: the command line holds this test's temp path
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def a_person_answers_an_email_referral(banner: str, config: Path, ports: dict[str, int], env, cwd) -> None:
    """`make run`, then a browser on the mailed link: the e-mail offices are left to people by default."""
    passcodes = dict(re.findall(r"^\s+(\w+)\s+yours to answer: passcode (\S+)$", banner, re.M))
    assert set(passcodes) == {"dinsos_kalsel", "ngo_kalsel"}, banner
    opened = await run_sinergi("case", "open", str(EXAMPLE), "--config", str(config), "--json", env=env, cwd=cwd)
    assert opened.code == 0, str(opened)
    case_id = json.loads(opened.stdout)["case_id"]
    mail = f"http://127.0.0.1:{ports['gateway']}/dev/mail"
    async with aiohttp.ClientSession() as session:
        link = office = None
        deadline = time.monotonic() + 120
        while link is None and time.monotonic() < deadline:
            async with session.get(mail) as listed:
                for article in (await listed.text()).split("<article>"):
                    found = re.search(r'href="(http://127\.0\.0\.1:\d+/r/[^"]+)"', article)
                    to = re.search(r"rujukan@(dinsos-kalsel|lbh-kalsel)\.sandbox\.invalid", article)
                    if found and to and case_id in article:
                        link, office = found.group(1), {"dinsos-kalsel": "dinsos_kalsel",
                                                        "lbh-kalsel": "ngo_kalsel"}[to.group(1)]
            await asyncio.sleep(1.0)
        assert link is not None, f"no referral mail to an e-mail office for {case_id} within 120 s"
        person = ReferralPageClient(session, link, passcodes[office])
        await person.answer("referral.acknowledged")
        await person.answer("referral.accepted")
    status = await run_sinergi("case", "status", case_id, "--config", str(config), "--json", env=env, cwd=cwd)
    assert status.code == 0, str(status)
    referrals = [r for r in json.loads(status.stdout)["referrals"] if r["agency"] == office]
    assert any(r["status"] == "accepted" for r in referrals), referrals
