"""`sinergi dev` only: a local mail catcher for the e-mail offices, and `GET /dev/mail` to read what it caught.

Offices without systems of their own get their referrals by e-mail (SPEC "Offices without systems of their
own"). On one machine there is no mail server: unless `[email] host` is configured, `sinergi dev` runs this
catcher (an `aiosmtpd` SMTP server on loopback, in the process's own event loop) and points the e-mail
adapter at it, so a trainer or tester can play every office from a browser: `/dev/mail` lists each mail
with its links clickable. The mails carry no personal data (only case ids, services, due times and the
referral page's link, behind the office's passcode); the page is served to loopback clients only.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import escape

import structlog
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

log = structlog.get_logger("sinergi.gateway.devmail")

PATH = "/dev/mail"
KEPT = 500  # the newest mails kept in memory; a dev session never needs more
MAIL_MAX_BYTES = 1024 * 1024
_LINK = re.compile(r"https?://[^\s<>\"']+")
LOOPBACK = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class CaughtMail:
    received_at: datetime
    sender: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    text: str
    # sinergi's own `X-Sinergi-*` headers (case, referral or notice id, service, purpose: codes, nothing
    # personal), by name without the prefix, lower case: what the sandbox reads to play an e-mail office.
    sinergi: dict[str, str] = field(default_factory=dict)

    def links(self) -> list[str]:
        return _LINK.findall(self.text)


class Mailbox:
    """What the catcher received, newest last; bounded. Listeners (the sandbox playing the e-mail offices)
    hear of each mail as it arrives."""

    def __init__(self, kept: int = KEPT) -> None:
        self._mails: deque[CaughtMail] = deque(maxlen=kept)
        self._listeners: list[Callable[[CaughtMail], None]] = []

    def add(self, mail: CaughtMail) -> None:
        self._mails.append(mail)
        for listener in list(self._listeners):
            try:
                listener(mail)
            except Exception:  # noqa: BLE001 - a listener's fault never loses the mail or the SMTP answer
                log.exception("dev_mail_listener_failed", message_id=mail.message_id)

    def listen(self, listener: Callable[[CaughtMail], None]) -> Callable[[], None]:
        """Call `listener` with every mail from now on; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def all(self) -> list[CaughtMail]:
        return list(self._mails)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        self.add(CaughtMail(received_at=datetime.now(UTC), sender=envelope.mail_from or "",
                            recipients=tuple(envelope.rcpt_tos), subject=str(message.get("Subject", "")),
                            message_id=str(message.get("Message-ID", "")), text=_text_of(message),
                            sinergi={k.lower().removeprefix("x-sinergi-"): str(v) for k, v in message.items()
                                     if k.lower().startswith("x-sinergi-")}))
        log.info("dev_mail_caught", recipients=len(envelope.rcpt_tos), message_id=str(message.get("Message-ID", "")))
        return "250 OK"


def _text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html")) if message.is_multipart() else message
    return part.get_content() if part is not None else ""


async def start_catcher(mailbox: Mailbox, host: str, port: int):
    """Serve SMTP on `host:port` in the running loop; returns the asyncio server (close it to stop)."""
    import asyncio

    loop = asyncio.get_running_loop()
    # A referral mail is a few kilobytes: 1 MB each bounds what 500 kept mails can hold.
    server = await loop.create_server(lambda: SMTP(mailbox, hostname="sinergi-dev", data_size_limit=MAIL_MAX_BYTES),
                                      host, port)
    log.info("dev_mail_catcher_listening", host=host, port=port)
    return server


MAILBOX: web.AppKey[Mailbox] = web.AppKey("dev_mailbox")


async def list_mail(request: web.Request) -> web.Response:
    """`GET /dev/mail`: every caught mail, newest first, links clickable; loopback clients only."""
    # Loopback clients, asking for a loopback name: a web page whose name was rebound to 127.0.0.1 (DNS
    # rebinding) sends its own name as Host, and is refused.
    host = (request.host or "").rsplit(":", 1)[0].strip("[]")
    if request.remote not in LOOPBACK or host not in ("127.0.0.1", "localhost", "::1"):
        raise web.HTTPNotFound()
    mails = request.app[MAILBOX].all()
    rows = "\n".join(_row(m) for m in reversed(mails)) or "<p>No mail yet. / Belum ada surel.</p>"
    page = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            f"content=\"width=device-width, initial-scale=1\"><title>sinergi dev — mail</title></head><body>"
            f"<h1>sinergi dev — mail ({len(mails)})</h1>{rows}</body></html>")
    return web.Response(text=page, content_type="text/html", headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; form-action 'none'; frame-ancestors 'none'"})


def _row(mail: CaughtMail) -> str:
    body = _LINK.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escape(mail.text, quote=False))
    return (f"<article><h2>{escape(mail.subject)}</h2><p><small>{escape(mail.received_at.isoformat())} · to "
            f"{escape(', '.join(mail.recipients))} · {escape(mail.message_id)}</small></p>"
            f"<pre>{body}</pre></article><hr>")
