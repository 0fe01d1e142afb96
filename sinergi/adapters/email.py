"""The built-in `email` adapter: referrals and notices as e-mails to offices without a system of their own
(SPEC "Offices without systems of their own"), sent through the deployment's SMTP relay (`[email]`).

A mail carries no personal data: the case id, the service and stage in words, what is asked, the due time in
the office's zone, and one link `{public_url}/r/{token}` to the referral page (`platform/referral_tokens`).
The renderer is never given `message.data`. Office settings used: `to` (an address or a list, required);
`passcode_env` belongs to the referral page. The office's `language` picks the catalog.

`Message-ID` is derived from the referral or notice id, so a resend after a crash is recognisable as the same
mail; within one process a mail the relay already accepted is not sent again.

SMTP mapping, the one place it is decided: accepted → delivered; 4xx, timeouts and connection errors →
AgencyUnavailable (retried); 5xx from the office's side (recipient, message) → AgencyRejected with the relay's
reply (the workflow opens a manual task with it). A relay that refuses *us* (authentication, our sender
address, no STARTTLS) is unavailable, not a rejection: it is our configuration, fixed once for every office.
"""

from __future__ import annotations

import email.policy
import os
import re
from collections import OrderedDict
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiosmtplib
import structlog

from sinergi.adapters.base import AdapterContext, AgencyRejected, AgencyUnavailable, NoticeMessage, ReferralMessage
from sinergi.adapters.email_render import SERVICE_WORDS, STAGE_WORDS, EmailRenderer, Rendered, local_datetime
from sinergi.domain.agencies import Office
from sinergi.platform.config import EmailSettings
from sinergi.platform.i18n import office_zone
from sinergi.platform.referral_tokens import ReferralTokens

log = structlog.get_logger(__name__)

MAX_REASON = 500
# Mails the relay accepted, remembered per process so a retried activity does not mail the office twice.
# Bounded: after a restart (or beyond this many) a resend can happen, and its Message-ID says it is one.
SENT_MEMORY = 10_000
# RFC 5322 id-left is a dot-atom: anything else in an id is replaced, keeping the Message-ID one token.
_NOT_ATOM = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]")
# Parts are built under the SMTP policy (quoted-printable lines of 76, CRLF) and sent 7-bit clean, so any
# relay takes them, 8BITMIME or not. Headers are written unfolded up to RFC 5322's 998: Python folds a long
# subject with a non-ASCII "—" so that clients show a double space where the fold was.
BUILD_POLICY = email.policy.SMTP
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)


class EmailAdapter:
    """Reaches every office configured with `adapter = "email"`."""

    name: ClassVar[str] = "email"

    def __init__(self, context: AdapterContext) -> None:
        if context.email is None or context.codec is None:
            raise ValueError("the email adapter needs the [email] settings and the [codec] keys "
                             "(AdapterContext.email, AdapterContext.codec)")
        base = urlsplit(context.callback_base_url)
        if base.scheme != "https" and base.hostname not in ("127.0.0.1", "localhost", "::1"):
            # The link opens the victim's data behind a passcode: it must not travel, nor be typed, in clear.
            raise ValueError(f"the email adapter mails links to the referral page, and {context.callback_base_url} "
                             "is not https: set [gateway] public_url to the gateway's https:// address")
        self.context = context
        self.settings: EmailSettings = context.email
        self.tokens = ReferralTokens.from_settings(context.codec)
        self.renderer = EmailRenderer()
        self._sent: OrderedDict[tuple[str, str], None] = OrderedDict()

    async def deliver_referral(self, office: Office, message: ReferralMessage) -> None:
        await self._send(office, self.referral_mail(office, message, now=datetime.now(UTC)))

    async def deliver_notice(self, office: Office, message: NoticeMessage) -> None:
        await self._send(office, self.notice_mail(office, message))

    async def close(self) -> None:
        # One SMTP connection per mail: nothing is held between deliveries.
        return None

    def referral_mail(self, office: Office, message: ReferralMessage, *, now: datetime) -> EmailMessage:
        """The referral e-mail; built from ids, the service, the stage and the due time only."""
        language = office.language
        token = self.tokens.issue(office=office.id, referral_id=message.referral_id, case_id=message.case_id,
                                  now=now)
        due = local_datetime(message.due_by, office_zone(office), language) if message.due_by else None
        rendered = self.renderer.render(
            "referral", language, title=message.case_id, office_name=office.name,
            case_id=message.case_id, referral_id=message.referral_id, due=due,
            service=self._words(language, SERVICE_WORDS, message.service),
            stage=self._words(language, STAGE_WORDS, message.stage),
            link=f"{self.context.callback_base_url.rstrip('/')}/r/{token}")
        mail = self._envelope(office, rendered, f"referral.{message.referral_id}")
        mail["X-Sinergi-Case"] = message.case_id
        mail["X-Sinergi-Referral"] = message.referral_id
        # Codes, not words: an office's mail rules can file referrals by service without reading the body.
        mail["X-Sinergi-Service"] = message.service
        mail["X-Sinergi-Stage"] = message.stage
        return mail

    def notice_mail(self, office: Office, message: NoticeMessage) -> EmailMessage:
        """An escalation, restriction or other notice; a restriction notice never repeats why in words."""
        language = office.language
        # Never the notice's own text: it can quote what an office typed (a decline's reason, which may name
        # the victim) and e-mail is not a place for personal data. The fixed wording, the rule and its source
        # say what the office must do; the rest is in the case.
        details = None
        rendered = self.renderer.render(
            "notice", language, title=message.case_id, office_name=office.name,
            case_id=message.case_id, notice_id=message.notice_id, purpose=message.purpose, clock=message.clock,
            source=message.source, rung=message.rung, details=details)
        mail = self._envelope(office, rendered, f"notice.{message.notice_id}")
        mail["X-Sinergi-Case"] = message.case_id
        mail["X-Sinergi-Notice"] = message.notice_id
        mail["X-Sinergi-Purpose"] = message.purpose
        return mail

    def _words(self, language: str, words: dict[str, str], code: str) -> str:
        # A service or stage added to the domain without words yet is shown by its code, never dropped.
        return self.renderer.words(language, words[code]) if code in words else code.replace("_", " ")

    def _envelope(self, office: Office, rendered: Rendered, key: str) -> EmailMessage:
        mail = EmailMessage(policy=BUILD_POLICY)
        mail["Subject"] = rendered.subject
        mail["From"] = self.settings.from_
        mail["To"] = ", ".join(_recipients(office))
        if self.settings.reply_to:
            mail["Reply-To"] = self.settings.reply_to
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = message_id(key, self.settings.from_)
        # RFC 3834: out-of-office robots must not answer a machine's mail.
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(rendered.text, cte="quoted-printable")
        mail.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
        mail["Content-Language"] = office.language  # after the parts: set_content drops every Content-* header
        return mail

    async def _send(self, office: Office, mail: EmailMessage) -> None:
        remembered = (office.id, str(mail["Message-ID"]))
        if remembered in self._sent:
            log.info("email_already_sent", office_id=office.id, message_id=remembered[1])
            return
        settings = self.settings
        if not settings.host:
            # Not a rejection: the office never saw it. Retrying keeps the referral alive until the relay is
            # configured, and degraded mode tells the operator meanwhile.
            raise AgencyUnavailable(f"{office.id}: no SMTP relay configured ([email] host)")
        where = f"{settings.host}:{settings.effective_port}"
        recipients, password = _recipients(office), self._password()
        try:
            errors, _ = await aiosmtplib.send(
                mail.as_bytes(policy=WIRE_POLICY), sender=parseaddr(settings.from_)[1], recipients=recipients,
                hostname=settings.host, port=settings.effective_port, username=settings.username, password=password,
                use_tls=settings.security == "tls", start_tls=settings.security == "starttls",
                timeout=settings.timeout_seconds)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # Every address refused. One "try later" among them means trying later may reach the office.
            replies = sorted(exc.recipients, key=lambda r: not 400 <= r.code < 500)
            raise _reply_error(office, replies[0].code, replies[0].message, where) from exc
        except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPHeloError) as exc:
            raise AgencyUnavailable(f"{office.id}: the relay {where} refused us ({exc.code} {exc.message}); "
                                    "check the [email] settings") from exc
        except aiosmtplib.SMTPResponseException as exc:  # e.g. the DATA reply
            raise _reply_error(office, exc.code, exc.message, where) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # connect, timeout, disconnect, TLS
            raise AgencyUnavailable(f"{office.id}: cannot reach the relay {where}: {type(exc).__name__}: "
                                    f"{exc}") from exc
        if errors:
            # Some addresses of the office took it: delivered; the others are for the operator to fix.
            log.warning("email_recipients_refused", office_id=office.id,
                        refused={rcpt: f"{r.code} {r.message}" for rcpt, r in errors.items()})
        self._sent[remembered] = None
        while len(self._sent) > SENT_MEMORY:
            self._sent.popitem(last=False)

    def _password(self) -> str | None:
        name = self.settings.password_env
        if not name:
            return None
        environ: dict[str, Any] = self.context.environ or dict(os.environ)
        if not environ.get(name):
            raise AgencyUnavailable(f"the SMTP password is not set: environment variable {name} ([email] password_env)")
        return str(environ[name])


def message_id(key: str, sender: str) -> str:
    """`<referral.KALSEL-2026-000042-R003@domain-of-from>`: the same key gives the same Message-ID, always."""
    domain = sender.rpartition("@")[2].strip("> ") or "sinergi.invalid"
    return f"<{_NOT_ATOM.sub('-', key)}@{domain}>"


def _recipients(office: Office) -> list[str]:
    to = office.settings.get("to")
    addresses = [to] if isinstance(to, str) else list(to or [])
    if not addresses or not all(isinstance(a, str) and "@" in a for a in addresses):
        raise AgencyUnavailable(f"office {office.id} has no valid settings.to e-mail address in the agency registry")
    return addresses


def _reply_error(office: Office, code: int, text: str, where: str) -> AgencyUnavailable | AgencyRejected:
    reply = f"{code} {' '.join(str(text).split())}"[:MAX_REASON]
    if 500 <= code < 600:
        return AgencyRejected(f"SMTP {reply}", code)
    # 4xx is "try again later" by definition; anything stranger is not a refusal we can be sure of either.
    return AgencyUnavailable(f"{office.id}: the relay {where} answered {reply}")

