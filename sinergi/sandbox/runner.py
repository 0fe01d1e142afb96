"""`Sandbox`: the simulated agency systems as one object — HTTP server on loopback, ledger, storylines.

Tests and benchmarks start one in-process (port 0) and steer it (`outage`, `restore`, `reject`);
`sinergi sandbox` and `sinergi dev` run it with `serve` until told to stop.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
import structlog
from aiohttp import web

from sinergi import bootstrap
from sinergi.domain.agencies import AgencyRegistry, Office
from sinergi.platform.config import Settings
from sinergi.platform.secrets import DEV_SECRETS, MissingSecret, ensure_dev_secrets, office_passcode
from sinergi.sandbox.ledger import AgencyLedger, Kind
from sinergi.sandbox.memory import Memory
from sinergi.sandbox.options import ALL_OFFICES, SandboxOptions, Window
from sinergi.sandbox.page_client import ReferralPageClient
from sinergi.sandbox.player import Player
from sinergi.sandbox.server import build_app

if TYPE_CHECKING:
    from sinergi.gateway.devmail import CaughtMail, Mailbox

log = structlog.get_logger(__name__)
LOOPBACK = "127.0.0.1"


class Sandbox:
    """Every office of `registry`, played on one loopback port. Not for real victims' data."""

    def __init__(self, registry: AgencyRegistry, options: SandboxOptions | None = None, *,
                 secrets_file: Path | None = None, environ: dict[str, str] | None = None) -> None:
        self.registry = registry
        self.options = options or SandboxOptions()
        self.secrets_file = secrets_file
        self.environ = environ  # None: the process environment
        self.ledger = AgencyLedger()
        self.memory = Memory()
        # The failure-rate draws (the player draws declines and pacing from its own generators).
        self.rng = random.Random(None if self.options.seed is None else self.options.seed + 2)
        self.rejecting: dict[str, str] = dict(self.options.reject)
        self._outages: dict[str, list[Window]] = {k: list(v) for k, v in self.options.outages.items()}
        self._started = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.player: Player | None = None
        self._unlisten: list[Any] = []
        self._catcher: asyncio.AbstractServer | None = None
        self.mailbox: Mailbox | None = None  # the catcher's, once `catch_mail` runs
        # Benchmarks set a list: every referral page request of the e-mail offices' officers, timed.
        self.page_timings: list[tuple[str, float]] | None = None
        self.url = ""

    async def start(self, host: str = LOOPBACK, port: int = 0) -> str:
        """Listen on `host:port` (0: any free port); return the base URL."""
        self._session = aiohttp.ClientSession()
        self.player = Player(self.registry, self.options, self.memory, self._session,
                             secrets_file=self.secrets_file, environ=self.environ)
        self._runner = web.AppRunner(build_app(self), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0][1]
        self._started = time.monotonic()
        self.url = f"http://{host}:{bound}"
        return self.url

    async def stop(self) -> None:
        for unlisten in self._unlisten:
            unlisten()
        if self._catcher is not None:
            self._catcher.close()
            await self._catcher.wait_closed()
        if self.player is not None:
            await self.player.close()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> Sandbox:
        if not self.url:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- steering ---------------------------------------------------------------------------------

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def down(self, office: str) -> bool:
        now = self.elapsed()
        return any(w.covers(now) for key in (office, ALL_OFFICES) for w in self._outages.get(key, ()))

    def outage(self, office: str, seconds: float | None = None) -> None:
        """Take `office` (or `*`) down from now, for `seconds` (None: until `restore`)."""
        now = self.elapsed()
        end = now + seconds if seconds is not None else math.inf
        self._outages.setdefault(office, []).append(Window(start=now, end=end))

    def restore(self, office: str) -> None:
        self._outages.pop(office, None)

    def reject(self, office: str, reason: str | None) -> None:
        """Answer every delivery to `office` with a 422 carrying `reason` (None: stop refusing)."""
        if reason is None:
            self.rejecting.pop(office, None)
        else:
            self.rejecting[office] = reason

    # --- acting -----------------------------------------------------------------------------------

    def act(self, office: Office, kind: Kind, body: dict[str, Any], trace: dict[str, str] | None = None) -> None:
        """A message was applied: learn from a referral and play its storyline; honour a restriction.

        `trace`: the W3C trace headers the referral came with, handed back on the events it leads to."""
        assert self.player is not None, "start() the sandbox first"
        if kind == "notice":
            if body.get("purpose") == "restriction":
                stopped = self.player.stop(body["case_id"], office.id)
                log.info("sandbox_restriction_honoured", office=office.id, case_id=body["case_id"], stopped=stopped)
            return
        gateway = self.options.gateway_url or body.get("callback_url", "").split("/v1/agencies/")[0] or None
        self.memory.learn(office, body, gateway.rstrip("/") if gateway else None)
        if self.options.storylines:
            self.player.start(office, body, trace)

    def office_mailed(self, mail: CaughtMail) -> Office | None:
        """The e-mail office a mail was sent to (by its `settings.to`), or None."""
        to = {r.lower() for r in mail.recipients}
        return next((o for o in self.registry.offices.values() if o.adapter == "email"
                     and to & {str(a).lower() for a in o.settings.get("to", ())}), None)

    def mailed(self, mail: CaughtMail) -> None:
        """An e-mail office's mail arrived: its officer opens the link and answers on the referral page (a
        restriction notice stops its work on the case). Kept in the ledger by referral or notice id, like a
        webhook delivery: a resent mail (same id) is a duplicate, read and not acted on again. Offices left to
        people (`people`) are recorded, never played."""
        assert self.player is not None and self._session is not None, "start() the sandbox first"
        office = self.office_mailed(mail)
        if office is None:
            return
        headers = mail.sinergi
        kind: Kind = "notice" if "notice" in headers else "referral"
        key = headers.get(kind)
        if not key or "case" not in headers:
            log.warning("sandbox_mail_not_understood", office=office.id, message_id=mail.message_id)
            return
        entry = self.ledger.attempt(office.id, kind, key)
        body = {"case_id": headers["case"], f"{kind}_id": key,
                **({"purpose": headers.get("purpose")} if kind == "notice" else {"service": headers.get("service")})}
        if not self.ledger.apply(entry, body) or office.id in self.options.people:
            return
        if kind == "notice":
            if headers.get("purpose") == "restriction":
                stopped = self.player.stop(headers["case"], office.id)
                log.info("sandbox_restriction_honoured", office=office.id, case_id=headers["case"], stopped=stopped)
            return
        link = next((u for u in mail.links() if "/r/" in u), None)
        if not (headers.get("service") and link):
            log.warning("sandbox_mail_not_understood", office=office.id, message_id=mail.message_id)
            return
        try:
            passcode = office_passcode(office, self.environ, self.secrets_file)
        except MissingSecret as exc:
            log.warning("sandbox_no_passcode", office=office.id, reason=str(exc))
            return
        parts = urlsplit(link)
        gateway = (self.options.gateway_url or f"{parts.scheme}://{parts.netloc}").rstrip("/")
        # `--gateway`: the page too is reached there (in a compose rehearsal the mailed link names the gateway's
        # public address, the sandbox reaches it by its service name).
        link = f"{gateway}{parts.path}"
        referral = {"case_id": headers["case"], "referral_id": key, "service": headers["service"]}
        # What the office learns of the case is on the page, behind its passcode; the sandbox's offices share
        # what the others were told (memory), so it asks nothing more here.
        self.memory.learn(office, referral, gateway)
        if self.options.storylines:
            self.player.start(office, referral, page=ReferralPageClient(self._session, link, passcode,
                                                                        timings=self.page_timings))

    def read_mail_from(self, mailbox: Mailbox) -> None:
        """Play the e-mail offices from what `mailbox` catches, until the sandbox stops."""
        self._unlisten.append(mailbox.listen(self.mailed))

    async def catch_mail(self, port: int, host: str = LOOPBACK) -> Mailbox:
        """Be the e-mail offices' mail server: an SMTP catcher on `host:port` (where the worker's relay points),
        read by `mailed`, closed with the sandbox. OSError if the port is taken."""
        from sinergi.gateway.devmail import Mailbox, start_catcher

        mailbox = Mailbox()
        self._catcher = await start_catcher(mailbox, host, port)
        self.read_mail_from(mailbox)
        self.mailbox = mailbox
        return mailbox


class NotByMail(ValueError):
    """Offices left to people that do not answer by e-mail (`unknown`), and the ones that do (`by_mail`)."""

    def __init__(self, unknown: list[str], by_mail: list[str]) -> None:
        super().__init__(f"not an e-mail office of the agreement: {', '.join(unknown)}; the e-mail offices are: "
                         f"{', '.join(by_mail) or 'none'}")
        self.unknown = unknown
        self.by_mail = by_mail


def check_people(registry: AgencyRegistry, people: frozenset[str]) -> None:
    """`NotByMail` unless every office left to people answers by e-mail (only those have a page to answer on)."""
    by_mail = sorted(o.id for o in registry.offices.values() if o.adapter == "email")
    unknown = sorted(people - set(by_mail))
    if unknown:
        raise NotByMail(unknown, by_mail)


async def serve(settings: Settings, options: SandboxOptions, stop: asyncio.Event, port: int | None = None,
                mailbox: Mailbox | None = None) -> Sandbox:
    """Run the sandbox for the configured registry until `stop` is set (`sinergi sandbox`, `sinergi dev`).

    Its e-mail offices read `mailbox` (`sinergi dev`'s catcher); without one, and with no `[email] host`
    configured, the sandbox catches their mail itself on `[dev] mail_port`, where the worker sends it."""
    registry = bootstrap.office_registry(settings)
    secrets_file = settings.dev.state_dir / DEV_SECRETS
    # Shared with the worker (outbound) and the gateway (inbound) through this file, so dev needs no setup.
    ensure_dev_secrets(secrets_file, registry.offices.values())
    check_people(registry, options.people)
    sandbox = Sandbox(registry, options, secrets_file=secrets_file)
    url = await sandbox.start(settings.dev.sandbox_host, settings.dev.sandbox_port if port is None else port)
    if mailbox is not None:
        sandbox.read_mail_from(mailbox)
    elif settings.email.host is None and any(o.adapter == "email" for o in registry.offices.values()):
        try:
            await sandbox.catch_mail(settings.dev.mail_port, settings.dev.sandbox_host)
        except OSError as exc:
            await sandbox.stop()
            raise OSError(exc.errno, f"the sandbox's mail catcher cannot listen on 127.0.0.1:"
                                     f"{settings.dev.mail_port} ([dev] mail_port): {exc.strerror}") from exc
    elsewhere = [o.id for o in registry.offices.values()
                 if o.adapter == "webhook" and not str(o.settings.get("base_url", "")).startswith(url)]
    if elsewhere:
        log.warning("sandbox_offices_elsewhere", url=url, offices=len(elsewhere), example=elsewhere[0],
                    hint="their base_url in the agencies file points to another address")
    log.info("sandbox_listening", url=url, offices=len(registry.offices),
             email_offices=sum(o.adapter == "email" for o in registry.offices.values()),
             left_to_people=sorted(options.people))
    try:
        await stop.wait()
    finally:
        await sandbox.stop()
    return sandbox
