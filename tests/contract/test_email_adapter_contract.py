"""The adapter contract, kept by the `email` adapter against a real SMTP server (aiosmtpd) on loopback; then
what only e-mail has: no personal data anywhere in the mail, both parts in both languages, a Message-ID that
survives a resend, and the SMTP reply mapping (4xx retried, 5xx permanent) at RCPT and at DATA."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from sinergi.adapters.base import AdapterContext, AgencyRejected, AgencyUnavailable
from sinergi.adapters.email import EmailAdapter
from sinergi.agencies import load_registry
from sinergi.domain.agencies import Office
from sinergi.platform.codec import ensure_keys_file
from sinergi.platform.config import CodecSettings, EmailSettings
from sinergi.platform.referral_tokens import ReferralTokens
from sinergi.testing.cases import SAMPLE_DOB, SAMPLE_NAME, SAMPLE_PHONE, intake
from sinergi.testing.contract import AdapterContract, sample_notice, sample_referral

REGISTRY = load_registry("sandbox")
PUBLIC_URL = "https://sinergi.kalselprov.example"
SENDER = "rujukan@sinergi.kalselprov.example"


class Inbox:
    """The SMTP server's handler: records every accepted mail; answers chosen recipients or DATA with 4xx/5xx."""

    def __init__(self) -> None:
        self.mails: list[tuple[list[str], bytes]] = []
        self.rcpt_replies: dict[str, str] = {}
        self.data_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook
        if self.data_reply:
            return self.data_reply
        self.mails.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def parsed(self, address: str | None = None) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[misc]
                for rcpts, raw in self.mails if address is None or address in rcpts]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def codec(tmp_path_factory: pytest.TempPathFactory) -> CodecSettings:
    keys_file = tmp_path_factory.mktemp("keys") / "keys.json"
    ensure_keys_file(keys_file, "k1")
    return CodecSettings(key_id="k1", keys_file=keys_file)


def _adapter(port: int, codec: CodecSettings, **email_settings: Any) -> EmailAdapter:
    settings = EmailSettings.model_validate({"host": "127.0.0.1", "port": port, "security": "none",
                                             "from": SENDER, "reply_to": "gugus.tugas@kalselprov.example",
                                             "timeout_seconds": 5, **email_settings})
    return EmailAdapter(AdapterContext(callback_base_url=PUBLIC_URL, email=settings, codec=codec,
                                       environ={"SINERGI_UNUSED": "1"}))


def _office(office_id: str = "dinsos_kalsel", language: str = "id", **settings: Any) -> Office:
    base = REGISTRY.offices[office_id]
    return base.model_copy(update={"adapter": "email", "language": language,
                                   "settings": {"to": [f"{office_id}@offices.example"], **settings}})


def _readable(mail: EmailMessage) -> str:
    """Every header and every part, decoded: what a person or a filter can read in the mail."""
    headers = "\n".join(f"{k}: {v}" for k, v in mail.items())
    parts = [part.get_content() for part in mail.walk() if not part.is_multipart()]
    return "\n".join([mail.as_string(), headers, *parts])


class SmtpAgency:
    """The contract's probe over the recording SMTP server; one mailbox address per office."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def _address(self, office: str) -> str:
        return f"{office}@offices.example"

    def _mails(self, office: str, header: str) -> dict[str, EmailMessage]:
        return {str(m[header]): m for m in self.inbox.parsed(self._address(office)) if m[header]}

    def referrals(self, office: str) -> dict[str, dict[str, Any]]:
        return {key: {"referral_id": key, "case_id": str(m["X-Sinergi-Case"]), "service": str(m["X-Sinergi-Service"]),
                      "stage": str(m["X-Sinergi-Stage"])}
                for key, m in self._mails(office, "X-Sinergi-Referral").items()}

    def notices(self, office: str) -> dict[str, dict[str, Any]]:
        return {key: {"notice_id": key, "case_id": str(m["X-Sinergi-Case"]), "purpose": str(m["X-Sinergi-Purpose"])}
                for key, m in self._mails(office, "X-Sinergi-Notice").items()}

    def times_applied(self, office: str, key: str) -> int:
        # Mails that reached the office, counted raw: a resend would count twice.
        return sum(key in (m["X-Sinergi-Referral"], m["X-Sinergi-Notice"])
                   for m in self.inbox.parsed(self._address(office)))

    def readable(self, office: str, key: str) -> str:
        mails = [m for m in self.inbox.parsed(self._address(office))
                 if key in (m["X-Sinergi-Referral"], m["X-Sinergi-Notice"])]
        return "\n".join(_readable(m) for m in mails)

    def make_unavailable(self, office: str) -> None:
        self.inbox.rcpt_replies[self._address(office)] = "451 4.3.0 Mailbox temporarily unavailable"

    def make_rejecting(self, office: str, reason: str) -> None:
        self.inbox.rcpt_replies[self._address(office)] = f"550 5.1.1 {reason}"

    def restore(self, office: str) -> None:
        self.inbox.rcpt_replies.pop(self._address(office), None)


class TestEmailAdapter(AdapterContract):
    carries_data = False

    @pytest.fixture
    def agency(self, smtp) -> SmtpAgency:
        return SmtpAgency(smtp[0])

    @pytest.fixture
    def adapter(self, smtp, codec) -> EmailAdapter:
        return _adapter(smtp[1], codec)

    @pytest.fixture
    def office(self) -> Office:
        return _office()


# --- e-mail only ----------------------------------------------------------------------------------------------


def _sent(inbox: Inbox, referral_id: str) -> EmailMessage:
    found = [m for m in inbox.parsed() if m["X-Sinergi-Referral"] == referral_id]
    assert len(found) == 1, f"expected one mail for {referral_id}, got {len(found)}"
    return found[0]


async def test_the_mail_carries_none_of_the_victims_personal_data(smtp, codec) -> None:
    inbox, port = smtp
    person = intake().model_dump(mode="json")
    message = sample_referral(case_id="KALSEL-2026-000042", service="social", data=person)
    await _adapter(port, codec).deliver_referral(_office(), message)
    readable = _readable(_sent(inbox, message.referral_id))
    raw = next(raw for _, raw in inbox.mails if message.referral_id.encode() in raw)
    for value in (SAMPLE_NAME, "Rahmawati", SAMPLE_PHONE, "812 5550 1234", "81255501234", SAMPLE_DOB,
                  "14 Maret 2001", "14-03-2001", "14/03/2001", "officer-17", "domestic_work", "withholds_documents",
                  "forced_labour"):
        assert value not in readable
        assert value.encode() not in raw
    # What it does carry: the case, the service in words, the link.
    assert "KALSEL-2026-000042" in readable and "rehabilitasi sosial" in readable and f"{PUBLIC_URL}/r/" in readable


@pytest.mark.parametrize(("language", "subject", "due", "words"), [
    ("id", "Rujukan kasus KALSEL-2026-000042: rehabilitasi sosial — tenggat 3 Desember 2026 08.00 WITA",
     "3 Desember 2026 08.00 WITA", ["Yth.", "Tenggat", "menerima atau menolak rujukan", "Nomor rujukan"]),
    ("en", "Referral of case KALSEL-2026-000042: social rehabilitation — due 3 December 2026 08:00 WITA",
     "3 December 2026 08:00 WITA", ["Dear", "Due", "accept the referral, or decline it", "Referral number"]),
])
async def test_the_mail_has_a_text_and_an_html_part_in_the_offices_language(
        smtp, codec, language, subject, due, words) -> None:
    inbox, port = smtp
    message = sample_referral(case_id="KALSEL-2026-000042", service="social",
                              due_by=datetime(2026, 12, 3, 0, 0, tzinfo=UTC))
    await _adapter(port, codec).deliver_referral(_office(language=language), message)
    mail = _sent(inbox, message.referral_id)
    assert mail["Subject"] == subject
    assert (mail["Content-Language"], mail["From"], mail["Auto-Submitted"]) == (language, SENDER, "auto-generated")
    assert mail["Reply-To"] == "gugus.tugas@kalselprov.example"
    assert mail.get_content_type() == "multipart/alternative"
    text, html = mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()
    for part in (text, html):
        assert due in part and message.referral_id in part
        assert all(word in part for word in words), part
    assert f'<html lang="{language}">' in html
    link = next(line for line in text.splitlines() if line.startswith(f"{PUBLIC_URL}/r/"))
    assert f'href="{link}"' in html


async def test_the_link_carries_a_token_bound_to_the_office_the_referral_and_the_case(smtp, codec) -> None:
    inbox, port = smtp
    message = sample_referral(case_id="KALSEL-2026-000042")
    await _adapter(port, codec).deliver_referral(_office(), message)
    text = _sent(inbox, message.referral_id).get_body(("plain",)).get_content()
    token = next(line for line in text.splitlines() if line.startswith(f"{PUBLIC_URL}/r/")).rsplit("/", 1)[1]
    verified = ReferralTokens.from_settings(codec).verify(token, now=datetime.now(UTC), max_age=timedelta(days=1))
    assert (verified.office, verified.referral_id, verified.case_id) == (
        "dinsos_kalsel", message.referral_id, "KALSEL-2026-000042")


async def test_a_resend_after_a_restart_has_the_same_message_id(smtp, codec) -> None:
    inbox, port = smtp
    message = sample_referral()
    before = len(inbox.mails)
    # Two adapters: the worker that sent it crashed before recording the delivery; the next one sends again.
    await _adapter(port, codec).deliver_referral(_office(), message)
    await _adapter(port, codec).deliver_referral(_office(), message)
    first, second = (m for m in inbox.parsed()[before:] if m["X-Sinergi-Referral"] == message.referral_id)
    assert first["Message-ID"] == second["Message-ID"] == f"<referral.{message.referral_id}@sinergi.kalselprov.example>"
    other = sample_referral()
    await _adapter(port, codec).deliver_referral(_office(), other)
    assert _sent(inbox, other.referral_id)["Message-ID"] != first["Message-ID"]


async def test_a_notice_has_its_own_message_id_and_a_restriction_says_stop_without_details(smtp, codec) -> None:
    inbox, port = smtp
    notice = sample_notice(case_id="KALSEL-2026-000042", text="referral R1 was withdrawn (consent withdrawn)")
    await _adapter(port, codec).deliver_notice(_office(), notice)
    mail = next(m for m in inbox.parsed() if m["X-Sinergi-Notice"] == notice.notice_id)
    assert mail["Message-ID"] == f"<notice.{notice.notice_id}@sinergi.kalselprov.example>"
    assert mail["Subject"] == "Hentikan pemrosesan data kasus KALSEL-2026-000042"
    for part in (mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()):
        assert "wajib menghentikan pemrosesan data pribadi korban" in part
        assert "withdrawn" not in part and "/r/" not in part


async def test_an_escalation_notice_names_the_deadline_and_the_rung_in_english(smtp, codec) -> None:
    inbox, port = smtp
    notice = sample_notice(purpose="escalation", clock="T1", source="UU 21/2007", rung=2,
                           text="Statutory deadline T1 (UU 21/2007) missed. Escalated to head of office.")
    await _adapter(port, codec).deliver_notice(_office(language="en"), notice)
    mail = next(m for m in inbox.parsed() if m["X-Sinergi-Notice"] == notice.notice_id)
    assert mail["Subject"] == f"Escalation of case {notice.case_id}: deadline T1 missed"
    text = mail.get_body(("plain",)).get_content()
    assert "Escalation level: 2" in text and "Deadline: T1 (UU 21/2007)" in text


async def test_a_notice_never_carries_its_free_text(smtp, codec) -> None:
    # Review: a decline's reason, typed by an office, reached the task force's mailbox inside an escalation
    # notice's text ("korban Siti Aminah 15 th, HP 0812..."). A notice mail carries fixed wording only.
    inbox, port = smtp
    typed = f"declined by ngo_kalsel: korban {SAMPLE_NAME}, HP {SAMPLE_PHONE}, Jl. Melati 3"
    notice = sample_notice(purpose="escalation", clock="referral", source="Perpres 49/2023", rung=1, text=typed)
    await _adapter(port, codec).deliver_notice(_office(), notice)
    mail = next(m for m in inbox.parsed() if m["X-Sinergi-Notice"] == notice.notice_id)
    decoded = [mail.get_body((kind,)).get_content() for kind in ("plain", "html")]
    assert "Perpres 49/2023" in decoded[0]  # the mail itself went out, with its fixed wording
    for part in (SAMPLE_NAME, SAMPLE_PHONE, "Jl. Melati", "declined by"):
        assert all(part not in text for text in [mail.as_string(), *decoded])


async def test_the_html_part_escapes_what_it_is_given(smtp, codec) -> None:
    inbox, port = smtp
    office = _office().model_copy(update={"name": "Dinas <b>Sosial</b> & Co"})
    message = sample_referral()
    await _adapter(port, codec).deliver_referral(office, message)
    mail = _sent(inbox, message.referral_id)
    assert "Dinas &lt;b&gt;Sosial&lt;/b&gt; &amp; Co" in mail.get_body(("html",)).get_content()
    assert "Yth. Dinas <b>Sosial</b> & Co," in mail.get_body(("plain",)).get_content()


@pytest.mark.parametrize(("rcpt", "data"), [("451 4.2.1 Mailbox busy, try later", None),
                                            (None, "451 4.3.0 Local error in processing")])
async def test_a_4xx_reply_is_unavailable_so_the_delivery_is_retried(smtp, codec, rcpt, data) -> None:
    inbox, port = smtp
    office = _office("dinkes_kalsel")
    if rcpt:
        inbox.rcpt_replies[office.settings["to"][0]] = rcpt
    inbox.data_reply = data
    try:
        with pytest.raises(AgencyUnavailable, match="451"):
            await _adapter(port, codec).deliver_referral(office, sample_referral())
    finally:
        inbox.rcpt_replies.clear()
        inbox.data_reply = None


@pytest.mark.parametrize(("rcpt", "data", "code"), [("550 5.1.1 No such mailbox here", None, 550),
                                                    (None, "554 5.7.1 Message refused as spam", 554)])
async def test_a_5xx_reply_is_a_rejection_carrying_the_smtp_reply(smtp, codec, rcpt, data, code) -> None:
    inbox, port = smtp
    office = _office()
    if rcpt:
        inbox.rcpt_replies[office.settings["to"][0]] = rcpt
    inbox.data_reply = data
    try:
        with pytest.raises(AgencyRejected) as refused:
            await _adapter(port, codec).deliver_referral(office, sample_referral())
    finally:
        inbox.rcpt_replies.clear()
        inbox.data_reply = None
    assert refused.value.status == code
    assert (rcpt or data).split(" ", 2)[2] in refused.value.reason and str(code) in refused.value.reason


async def test_one_refused_address_of_two_still_delivers(smtp, codec) -> None:
    inbox, port = smtp
    office = _office(to=["dinsos_kalsel@offices.example", "gone@offices.example"])
    inbox.rcpt_replies["gone@offices.example"] = "550 5.1.1 No such mailbox"
    message = sample_referral()
    try:
        await _adapter(port, codec).deliver_referral(office, message)
    finally:
        inbox.rcpt_replies.clear()
    assert _sent(inbox, message.referral_id)


async def test_a_refused_connection_is_unavailable(codec) -> None:
    with pytest.raises(AgencyUnavailable, match="cannot reach the relay"):
        await _adapter(_free_port(), codec).deliver_referral(_office(), sample_referral())


async def test_no_relay_no_address_or_no_password_is_unavailable_and_named(smtp, codec) -> None:
    _, port = smtp
    with pytest.raises(AgencyUnavailable, match=r"\[email\] host"):
        await _adapter(port, codec, host=None).deliver_referral(_office(), sample_referral())
    with pytest.raises(AgencyUnavailable, match="settings.to"):
        await _adapter(port, codec).deliver_referral(_office(to=[]), sample_referral())
    with pytest.raises(AgencyUnavailable, match="SINERGI_SMTP_PASSWORD"):
        await _adapter(port, codec, username="sinergi", password_env="SINERGI_SMTP_PASSWORD").deliver_referral(
            _office(), sample_referral())


def test_the_adapter_refuses_to_run_without_its_settings(codec: CodecSettings, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\[email\] settings"):
        EmailAdapter(AdapterContext(callback_base_url=PUBLIC_URL, codec=codec))


async def test_a_referral_without_a_due_time_says_none(smtp, codec) -> None:
    inbox, port = smtp
    message = sample_referral(case_id="KALSEL-2026-000042", service="shelter", due_by=None)
    await _adapter(port, codec).deliver_referral(_office(), message)
    mail = _sent(inbox, message.referral_id)
    assert mail["Subject"] == "Rujukan kasus KALSEL-2026-000042: penempatan di rumah aman"
    text = mail.get_body(("plain",)).get_content()
    assert "Tenggat" not in text and "sebelum tenggat" not in text
    assert "menyatakan menerima atau menolak rujukan (disertai alasan)." in text


def test_the_adapter_is_found_by_its_entry_point_and_built_from_the_context(codec: CodecSettings) -> None:
    from sinergi.adapters.registry import build_adapters, discover

    assert discover()["email"] is EmailAdapter
    context = AdapterContext(callback_base_url=PUBLIC_URL, email=EmailSettings(), codec=codec)
    assert isinstance(build_adapters(context, {"email"})["email"], EmailAdapter)


@pytest.mark.parametrize(("base", "refused"), [("http://sinergi.kalselprov.example", True),
                                               ("https://sinergi.kalselprov.example", False),
                                               ("http://127.0.0.1:8080", False)])
def test_links_to_the_page_go_out_over_https_only_but_for_loopback(codec, base, refused) -> None:
    # Review: an http:// public URL was accepted, so a link that opens the victim's data travelled in clear.
    settings = EmailSettings(host="127.0.0.1", port=25, security="none")
    build = lambda: EmailAdapter(AdapterContext(callback_base_url=base, email=settings, codec=codec))  # noqa: E731 - built in both branches
    if refused:
        with pytest.raises(ValueError, match="https"):
            build()
    else:
        build()
