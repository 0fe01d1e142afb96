"""The shipped agreement's e-mail offices (Dinas Sosial Provinsi, the NGO) as `sinergi dev` runs them: the worker's
real `email` adapter sends to the sandbox's SMTP catcher on `[dev] mail_port`, and the sandbox's officer opens the
mailed link on the real gateway's referral page, unlocks it with the office's passcode and answers there; the
office's other events go to the gateway signed. Offices left to people (`--people`) are never answered by the
sandbox: a person answers on the page. Everything is put together by `sinergi.bootstrap`, as in production."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from sinergi import bootstrap
from sinergi.cases import Cases
from sinergi.domain.views import CaseStatus
from sinergi.gateway.serve import serve as serve_gateway
from sinergi.platform.codec import ensure_keys_file
from sinergi.platform.config import load_settings
from sinergi.platform.secrets import DEV_SECRETS, office_passcode
from sinergi.platform.temporal import connect
from sinergi.policies import load_policy
from sinergi.sandbox import Sandbox, SandboxOptions
from sinergi.sandbox.page_client import PageRefused, ReferralPageClient
from sinergi.sandbox.runner import check_people
from sinergi.testing.cases import intake
from sinergi.testing.live import terminate_running
from sinergi.worker import build_workers, run_workers

pytestmark = pytest.mark.asyncio(loop_scope="session")
EMAIL_OFFICES = {"dinsos_kalsel", "ngo_kalsel"}
BRISK = dict(delay=0.02, jitter=0.02, retry_attempts=10, retry_interval=0.1, retry_max_interval=1.0,
             wait_timeout=20.0, followups=1, seed=7)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dev:
    def __init__(self, cases: Cases, sandbox: Sandbox, settings) -> None:
        self.cases, self.sandbox, self.settings = cases, sandbox, settings
        self.opened: list[str] = []

    async def open(self, **overrides) -> str:
        case_id = f"EM-{uuid.uuid4().hex[:10].upper()}"
        await self.cases.open(intake(**overrides), case_id=case_id)
        self.opened.append(case_id)
        return case_id

    async def until(self, case_id: str, check, timeout: float = 60.0) -> CaseStatus:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            status = await self.cases.status(case_id)
            if check(status):
                return status
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{case_id}: never reached the expected state; last: stage {status.stage}, "
                                     f"referrals {[(r.agency, r.service, r.status) for r in status.referrals]}")
            await asyncio.sleep(0.2)


@asynccontextmanager
async def dev_like(server, folder: Path, people: frozenset[str] = frozenset()) -> AsyncIterator[Dev]:
    keys = folder / "keys.json"
    ensure_keys_file(keys, "k1")
    gateway_port, sandbox_port, mail_port = free_port(), free_port(), free_port()
    config = folder / "sinergi.toml"
    config.write_text(f"""
[temporal]
address = "{server.service_client.config.target_host}"
namespace = "{server.namespace}"
task_queue = "email-{uuid.uuid4().hex[:8]}"
[gateway]
host = "127.0.0.1"
port = {gateway_port}
[codec]
key_id = "k1"
keys_file = "{keys}"
[policy]
file = "demo"
[agencies]
file = "sandbox"
[dev]
state_dir = "{folder / 'state'}"
sandbox_port = {sandbox_port}
mail_port = {mail_port}
""", "utf-8")
    settings = load_settings(config, env={})
    client = await connect(settings)
    cases = Cases(client, settings.temporal.task_queue, load_policy("demo"))
    stop = asyncio.Event()
    registry = bootstrap.office_registry(settings)
    check_people(registry, people)
    from sinergi.platform.secrets import ensure_dev_secrets
    ensure_dev_secrets(settings.dev.state_dir / DEV_SECRETS, registry.offices.values())
    sandbox = Sandbox(registry, SandboxOptions(**BRISK, people=people),
                      secrets_file=settings.dev.state_dir / DEV_SECRETS)
    await sandbox.start(port=sandbox_port)
    await sandbox.catch_mail(mail_port)
    stop_gateway = asyncio.Event()
    gateway = asyncio.create_task(serve_gateway(settings, stop_gateway, cases))
    try:
        async with bootstrap.agency_activities(settings) as activities:
            workers = asyncio.create_task(run_workers(build_workers(client, settings.temporal.task_queue,
                                                                    activities), stop))
            dev = Dev(cases, sandbox, settings)
            try:
                yield dev
            finally:
                # Quiet before the cases are terminated: the offices stop sending, and the gateway finishes what
                # they sent while the workers still run. An event reaching its case as it is terminated waits out
                # the gateway's apply timeout, and the gateway's shutdown waits for it (20-50 s).
                await sandbox.stop()
                stop_gateway.set()
                await gateway
                await terminate_running(cases, dev.opened)
                stop.set()
                await workers
    finally:
        stop.set()
        stop_gateway.set()
        await gateway
        await sandbox.stop()  # again, if the workers never started: a second stop does nothing


def _email_referrals(status: CaseStatus):
    return [r for r in status.referrals if r.agency in EMAIL_OFFICES]


async def test_the_sandbox_answers_its_email_offices_on_the_referral_page(dev_env, tmp_path):
    async with dev_like(dev_env.client, tmp_path) as dev:
        case_id = await dev.open()
        status = await dev.until(case_id, lambda s: any(r.status in ("accepted", "completed")
                                                        for r in _email_referrals(s)))
        timeline = await dev.cases.timeline(case_id)
    answered = [r for r in _email_referrals(status) if r.status in ("accepted", "completed")]
    assert answered, status.referrals
    first = answered[0]
    # Through the page: the office unlocked it (recorded in the case) before answering there.
    unlocks = [e for e in timeline.entries
               if f"referral {first.referral_id} opened on the referral page by {first.agency}" in e.text]
    assert unlocks, [e.text for e in timeline.entries]
    # One mail per referral to an e-mail office: the adapter sent each once, the sandbox read each once.
    mailed = [m.sinergi["referral"] for m in dev.sandbox.mailbox.all() if "referral" in m.sinergi]
    assert first.referral_id in mailed and len(mailed) == len(set(mailed))


async def test_an_office_left_to_people_waits_for_a_person_who_answers_on_the_page(dev_env, tmp_path):
    async with dev_like(dev_env.client, tmp_path, people=frozenset(EMAIL_OFFICES)) as dev:
        case_id = await dev.open()
        status = await dev.until(case_id, lambda s: bool(_email_referrals(s)))
        await asyncio.sleep(2.0)  # the sandbox had time to answer, had it been its office
        status = await dev.cases.status(case_id)
        waiting = _email_referrals(status)
        assert waiting and all(r.status == "sent" for r in waiting), waiting
        referral = waiting[0]
        office = bootstrap.office_registry(dev.settings).offices[referral.agency]
        mails = [m for m in dev.sandbox.mailbox.all() if m.sinergi.get("referral") == referral.referral_id]
        assert len(mails) == 1, "one mail per referral"
        link = next(u for u in mails[0].links() if "/r/" in u)
        passcode = office_passcode(office, environ={}, secrets_file=dev.settings.dev.state_dir / DEV_SECRETS)
        async with aiohttp.ClientSession() as session:
            wrong = ReferralPageClient(session, link, "WRONG-CODE-000")
            with pytest.raises(PageRefused) as refused:
                await wrong.unlock()
            assert refused.value.status == 403
            person = ReferralPageClient(session, link, passcode)
            page = await person.answer("referral.acknowledged")
            accept = page.answer("accept")
            assert accept is not None and page.answer("acknowledge") is None, page.forms
            for _ in range(2):  # a double click posts the same form twice: the second is a duplicate
                async with session.post(link, data=accept) as answered:
                    assert answered.status == 200
                    last = await answered.text()
            assert "sudah tercatat" in last or "already recorded" in last, last
        status = await dev.until(case_id, lambda s: next(r for r in s.referrals
                                                         if r.referral_id == referral.referral_id).status == "accepted")
        assert next(r for r in status.referrals if r.referral_id == referral.referral_id).status == "accepted"


def test_only_email_offices_can_be_left_to_people():
    registry = bootstrap.office_registry(load_settings(None, env={}))
    check_people(registry, frozenset({"dinsos_kalsel"}))
    with pytest.raises(ValueError, match="dinsos_kalsel, ngo_kalsel"):
        check_people(registry, frozenset({"polda_kalsel"}))
