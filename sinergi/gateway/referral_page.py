"""The referral page: how an office without a system of its own answers a referral (SPEC "Offices without
systems of their own").

    GET  /r/{token}         the referral's ids, service, status and due time, and an access-code form: nothing
                            personal, and nothing changes (mail scanners open links)
    POST /r/{token}/unlock  the office's access code (passcode) → the fields its agreement allows, recorded in
                            the case (`record_page_unlock`), and the answers it may give now
    POST /r/{token}         one answer → the `referral.*` event from that office, through the gateway's own path
                            (`events.apply_from`: agreement, lanes, timeout, then the case's authority, validator,
                            limits and idempotency)

The token (`sinergi.platform.referral_tokens`) names the office, the referral and the case; whatever is wrong with
it — forged, garbled, unknown key, another office's referral, closed more than 30 days ago — the answer is the same
bare 404 page.

Forms and CSRF. No cookies: every form carries `session` (`<expiry>.<random nonce>`) and `csrf`, an HMAC over the
form's purpose, the link's token and the session, keyed with a secret of the deployment. A cross-site page cannot
compute it and cannot read it from ours (same-origin policy; `frame-ancestors 'none'`), so it cannot post a form
here. The answer forms' MAC is handed out only by a successful unlock, so it also proves the access code was entered
within `SESSION_FOR`: an answer needs the passcode, not only the link. Stateless, so a phone that blocks cookies
works, GET stays free of side effects, and any gateway replica sharing the key checks a form another one issued.

Wrong passcodes: `LOCK_AFTER` wrong codes lock that token for `lock_for` (15 minutes). The count is kept in this
process (`PasscodeLocks`): with several gateway replicas each counts on its own (at most 5 × replicas tries per
period), and a restart forgets it.

Language: the office's `language` (`id` | `en`); every string goes through gettext. The catalogs are
`locale/<lang>/LC_MESSAGES/referral_page.po`, compiled to `.mo` when the package is built or installed
(hatch_build.py), never at run time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs

import structlog
from aiohttp import web
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from pydantic import ValidationError

from sinergi.cases import CaseError, CaseNotFound, EventIdReused, EventRefused, NotAllowed, NotAParty
from sinergi.domain import limits, places
from sinergi.domain.agencies import AgencyRegistry, Office
from sinergi.domain.events import EVENT_ADAPTER, Event
from sinergi.gateway.body import read_capped
from sinergi.gateway.errors import ApiError
from sinergi.gateway.events import apply_from
from sinergi.gateway.resources import RESOURCES
from sinergi.platform import i18n
from sinergi.platform.i18n import compiled_translations, office_zone
from sinergi.platform.referral_tokens import InvalidReferralToken, ReferralToken
from sinergi.workflows import messages as m

log = structlog.get_logger("sinergi.gateway.page")

Language = Literal["id", "en"]
LANGUAGES: tuple[Language, ...] = ("id", "en")
DOMAIN = "referral_page"
HERE = Path(__file__).parent
TEMPLATES = HERE / "page_templates"
LOCALES = HERE / "locale"

LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)
# A link stays usable for 30 days after its referral closes (SPEC).
CLOSED_FOR = timedelta(days=30)
# The token's own limit: none. A link works as long as its referral is open, however long (a reintegration's
# follow-ups last a year and more), then `CLOSED_FOR` (SPEC); the passcode guards it meanwhile.
TOKEN_MAX_AGE: timedelta | None = None
# How long an unlock lets the office answer before it enters the code again; also the passcode form's life.
SESSION_FOR = timedelta(minutes=30)
FORM_READ_SECONDS = 10.0
READS_PER_MINUTE = 30  # a person reads a page a few times a minute at most; a scanner fetches it once
MAX_FORM_BYTES = 16 * 1024  # a reason of 2,000 characters, each URL-encoded to up to 12 bytes, must still arrive
# Answers, by status: what `domain/lifecycle/referrals.py` accepts (a pending referral has been routed and is
# being delivered: the office holding the link received it, and an answer proves receipt, rules v3).
ANSWERS_NOW = {"pending": ("acknowledge", "accept", "decline"), "sent": ("acknowledge", "accept", "decline"),
               "acknowledged": ("accept", "decline"), "accepted": ("complete",)}
EVENT_TYPES = {"acknowledge": "referral.acknowledged", "accept": "referral.accepted",
               "decline": "referral.declined", "complete": "referral.completed"}


def N_(message: str) -> str:  # noqa: N802 - the gettext convention Babel's extractor looks for
    return message


ANSWER_LABELS = {"acknowledge": N_("Acknowledge receipt"), "accept": N_("Accept the referral"),
                 "decline": N_("Decline the referral"), "complete": N_("Report the service completed")}
# A decline's coded reason (`DeclineReason`), which the coordination meeting's report counts; the words stay sealed.
DECLINE_REASONS = {
    "no_capacity": N_("No place or staff for it now"), "outside_jurisdiction": N_("Outside our area"),
    "not_our_service": N_("We do not give this service"), "not_eligible": N_("The victim does not meet our criteria"),
    "victim_declined": N_("The victim refused the service"), "other": N_("Another reason"),
}
NEXT_STEPS = {
    "acknowledge": N_("Next: accept or decline the referral before the due time."),
    "accept": N_("Next: provide the service. When it is done, report it completed on this page."),
    "decline": N_("The referral will be sent to another office. Do not use or keep the personal data you received."),
    "complete": N_("Nothing more is needed from your office for this referral. Thank you."),
}
STATUSES = {
    "pending": N_("being delivered"), "held": N_("on hold, waiting for the victim's consent"),
    "sent": N_("sent, waiting for your acknowledgement"), "acknowledged": N_("acknowledged, waiting for your decision"),
    "accepted": N_("accepted, service under way"), "declined": N_("declined"), "completed": N_("completed"),
    "failed": N_("not delivered"), "cancelled": N_("cancelled"),
}
SERVICES = {
    "screening": N_("identification screening"), "protection_abroad": N_("protection abroad"),
    "child_protection": N_("child protection and case management"),
    "police_report": N_("police report and investigation"),
    "foreign_victim": N_("contact with a foreign victim's mission"), "shelter": N_("shelter placement"),
    "urgent_first_aid": N_("urgent first aid"), "legal_aid": N_("legal aid"), "health": N_("health rehabilitation"),
    "social": N_("social rehabilitation"), "repatriation": N_("repatriation"),
    "reintegration": N_("reintegration support"), "travel_document_and_return": N_("travel document and return"),
    "port_reception": N_("reception at the port of entry"),
    "onward_travel": N_("transit shelter and onward travel home"), "domestic_return": N_("return within Indonesia"),
    "handover_to_mission": N_("hand-over to the victim's own mission"),
    "family_reintegration": N_("family and community reintegration"),
    "rights_and_empowerment": N_("settlement of unpaid rights and empowerment"),
}
FIELDS = {
    "person.full_name": N_("Full name"), "person.sex": N_("Sex"), "person.date_of_birth": N_("Date of birth"),
    "person.age_estimate": N_("Estimated age"), "person.nationality": N_("Nationality"),
    "person.phone": N_("Telephone"), "person.email": N_("E-mail address"), "person.address": N_("Address"),
    "person.home_regency": N_("Home regency or city"), "person.identity_document": N_("Identity document"),
    "situation.location_country": N_("Country where the person is"),
    "situation.location_province": N_("Province where the person is"),
    "situation.exploitation": N_("Forms of exploitation"), "situation.sector": N_("Sector of work"),
    "situation.means_of_control": N_("Means of control"), "situation.is_pmi": N_("Indonesian migrant worker"),
    "situation.procedural": N_("Placed through official procedure"),
    "situation.placement_company": N_("Placement company"), "situation.destination_country": N_("Destination country"),
    "situation.recruiter_relation": N_("Who recruited the person"),
    "flags.sexual_exploitation": N_("Sexual exploitation"), "flags.urgent_medical": N_("Needs urgent medical care"),
    "source.agency": N_("Office that received the report"), "source.channel": N_("Reporting channel"),
    "province": N_("Province"), "regency": N_("Regency or city"), "received_at": N_("Report received"),
    "is_child": N_("Child"),
}

# The page's only style, inline and allowed by its hash: the CSP needs no 'unsafe-inline' and no second request.
CSS = ("body{font-family:system-ui,Arial,sans-serif;font-size:17px;line-height:1.5;color:#1a1a1a;margin:0;"
       "padding:0 1em}main{max-width:38em;margin:0 auto}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}"
       "dl{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1em}dt{font-weight:600}dd{margin:0;"
       "overflow-wrap:anywhere}label{display:block;margin:.75em 0 .25em}input,textarea{width:100%;"
       "box-sizing:border-box;font-size:1em;padding:.5em}button{margin:.75em 0;padding:.75em 1.25em;"
       "font-size:1em;min-width:12em}form.answer{border-top:1px solid #ccc;padding-top:.5em}"
       ".notice{background:#fff4d6;padding:.75em;border-left:4px solid #c98a00}.small,footer{font-size:.85em;"
       "color:#555}@media (max-width:30em){dl{grid-template-columns:1fr}dd{margin-bottom:.5em}}")
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
SECURITY_HEADERS = {
    "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


# --- what the page needs from the deployment ----------------------------------------------------------------


class TokenVerifier(Protocol):
    """`sinergi.platform.referral_tokens.ReferralTokens`, as the page uses it."""

    def verify(self, token: str, *, now: datetime, max_age: timedelta) -> ReferralToken: ...


def passcode_from_env(environ: dict[str, str] | Any) -> Callable[[Office], str | None]:
    """An office's passcode: the env var its settings' `passcode_env` names (None if unnamed or unset)."""

    def passcode_of(office: Office) -> str | None:
        name = office.settings.get("passcode_env")
        return (environ.get(name) or None) if isinstance(name, str) else None

    return passcode_of


def form_key_from(key: bytes) -> bytes:
    """The forms' MAC key, derived from a codec key with its own label (unrelated to the token's and payload's)."""
    return hmac.new(key, b"sinergi referral-page forms v1", hashlib.sha256).digest()


class PasscodeLocks:
    """Wrong passcodes per token, in this process: `LOCK_AFTER` of them lock the token for `lock_for`."""

    def __init__(self, lock_for: timedelta = LOCK_FOR, lock_after: int = LOCK_AFTER) -> None:
        self.lock_for = lock_for
        self.lock_after = lock_after
        self._wrong: dict[str, tuple[int, datetime | None]] = {}  # token → (wrong count, locked until)

    def locked_until(self, token: str, now: datetime) -> datetime | None:
        count, until = self._wrong.get(token, (0, None))
        if until is not None and now >= until:
            del self._wrong[token]  # the lock has ended: a fresh count of tries
            return None
        return until

    def wrong(self, token: str, now: datetime) -> tuple[int, datetime | None]:
        """Count one wrong passcode; (tries left, locked until)."""
        count, _ = self._wrong.get(token, (0, None))
        count += 1
        until = now + self.lock_for if count >= self.lock_after else None
        self._wrong[token] = (count, until)
        self._forget_old(now)
        return max(0, self.lock_after - count), until

    def right(self, token: str) -> None:
        self._wrong.pop(token, None)

    def _forget_old(self, now: datetime) -> None:
        # Bounded: a flood of garbage tokens never reaches here (they fail verification first); ended locks go.
        if len(self._wrong) > 10_000:
            self._wrong = {t: (c, u) for t, (c, u) in self._wrong.items() if u is None or u > now}


class ReadBudget:
    """How often one link may make the gateway ask its case, in this process: `per_minute` reads. A link is
    public once mailed (scanners, a forwarded mail); each read is a query on the case, and a flood of reads
    racing the case's own work is what bench/RESULTS.md "Queries and updates" warns of."""

    def __init__(self, per_minute: int = READS_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._reads: dict[str, tuple[int, int]] = {}  # token → (minute, reads in it)

    def take(self, token: str, now: datetime) -> bool:
        minute = int(now.timestamp() // 60)
        if len(self._reads) > 10_000:  # bounded: only verified tokens get here; old minutes go
            self._reads = {t: (m, n) for t, (m, n) in self._reads.items() if m == minute}
        start, reads = self._reads.get(token, (minute, 0))
        reads = reads + 1 if start == minute else 1
        self._reads[token] = (minute, reads)
        return reads <= self.per_minute


@dataclass
class ReferralPages:
    """Everything the page needs, built once per gateway (`bootstrap.gateway_resources`; tests build their own)."""

    registry: AgencyRegistry
    tokens: TokenVerifier
    passcode_of: Callable[[Office], str | None]
    form_key: bytes
    locks: PasscodeLocks = field(default_factory=PasscodeLocks)
    reads: ReadBudget = field(default_factory=ReadBudget)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)


# --- words -------------------------------------------------------------------------------------------------


def _translations(language: Language) -> Translations:
    return compiled_translations(LOCALES, DOMAIN, language)


def _environment(translations: Translations) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      extensions=["jinja2.ext.i18n"], undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations, newstyle=True)
    return env


TRANSLATIONS = {language: _translations(language) for language in LANGUAGES}
ENVIRONMENTS = {language: _environment(t) for language, t in TRANSLATIONS.items()}


def _language(office: Office | None) -> Language:
    language = getattr(office, "language", "id") if office is not None else "id"
    return language if language in LANGUAGES else "id"


def local_datetime(value: datetime, office: Office, language: Language) -> str:
    """`27 November 2026 08.00 WITA` (SPEC "Language") or `27 November 2026 08:00 WITA`, in the office's zone."""
    return i18n.local_datetime(value, office_zone(office), language)


# --- pages -------------------------------------------------------------------------------------------------


@dataclass
class Page:
    """One rendered answer: a template, its status, and what it shows."""

    template: str
    status: int
    title: str
    context: dict[str, Any] = field(default_factory=dict)


def _render(page: Page, language: Language) -> web.Response:
    env = ENVIRONMENTS[language]
    html = env.get_template(page.template).render(language=language, title=page.title, css=Markup(CSS),
                                                  **page.context)
    return web.Response(text=html, status=page.status, content_type="text/html", charset="utf-8")


def _words(language: Language) -> Callable[[str], str]:
    return TRANSLATIONS[language].gettext


def _error(language: Language, status: int, title: str, message: str, detail: str | None = None) -> Page:
    _ = _words(language)
    return Page("error.html", status, _(title), {"message": _(message), "detail": detail})


def _not_found(language: Language) -> Page:
    # One page for every bad link: a forger learns nothing from the difference between causes.
    return _error(language, 404, N_("Page not found"), N_("This link is not valid or has expired."))


def _unavailable(language: Language) -> Page:
    return _error(language, 503, N_("Please try again"), N_("The system is busy. Please try again in a few minutes."))


class _Stop(Exception):
    """A page to answer with at once (a bad link, an expired form)."""

    def __init__(self, page: Page) -> None:
        super().__init__(page.title)
        self.page = page


@dataclass
class _Visit:
    """A request on a link that verified: the link's claims, its office and the page's parts."""

    token: str
    claims: ReferralToken
    office: Office
    language: Language
    pages: ReferralPages
    now: datetime

    def words(self) -> Callable[[str], str]:
        return _words(self.language)

    def summary(self, view: m.ReferralPage) -> dict[str, Any]:
        _ = self.words()
        return {"view": view, "service": _(SERVICES[view.service]) if view.service in SERVICES else view.service,
                "status": _(STATUSES.get(view.status, view.status)),
                "due": local_datetime(view.due_at, self.office, self.language) if view.due_at else None}

    def form(self, purpose: str, session: str | None = None) -> dict[str, str]:
        """A form's hidden fields. An answer form keeps the session its unlock began (`session`): answering
        never extends it, so one unlock answers for `SESSION_FOR` at most."""
        session = session or f"{int((self.now + SESSION_FOR).timestamp())}.{secrets.token_urlsafe(12)}"
        return {"session": session, "csrf": _mac(self.pages.form_key, purpose, self.token, session,
                                                 self._passcode_mark(purpose))}

    def _passcode_mark(self, purpose: str) -> str:
        # An answer form is bound to the passcode it was unlocked with: rotating the passcode ends every
        # session opened with the old one (a former officer cannot go on answering).
        if purpose != "answer":
            return ""
        return hashlib.sha256((self.pages.passcode_of(self.office) or "").encode()).hexdigest()[:16]

    def check_form(self, purpose: str, posted: dict[str, str]) -> None:
        session, csrf = posted.get("session", ""), posted.get("csrf", "")
        expires, _, nonce = session.partition(".")
        ok = bool(nonce) and expires.isdigit() and hmac.compare_digest(
            csrf.encode(), _mac(self.pages.form_key, purpose, self.token, session,
                                self._passcode_mark(purpose)).encode())
        if not ok or int(expires) < self.now.timestamp():
            raise _Stop(_error(self.language, 403, N_("Form expired"),
                               N_("The form has expired or is not valid. Open the link from the e-mail again.")))

    def answers(self, view: m.ReferralPage) -> list[dict[str, str]]:
        _ = self.words()
        return [{"name": name, "label": _(ANSWER_LABELS[name]),
                 **({"reasons": [(code, _(label)) for code, label in DECLINE_REASONS.items()]}
                    if name == "decline" else {})}
                for name in ANSWERS_NOW.get(view.status, ())
                if self.office.may_send_type(EVENT_TYPES[name]) and not view.case_closed]


def _mac(key: bytes, purpose: str, token: str, session: str, mark: str = "") -> str:
    digest = hmac.new(key, f"{purpose}\x1f{token}\x1f{session}\x1f{mark}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _pages(request: web.Request) -> ReferralPages | None:
    resources = request.config_dict.get(RESOURCES)
    return getattr(resources, "referral_pages", None) if resources is not None else None


def _visit(request: web.Request) -> _Visit:
    pages = _pages(request)
    if pages is None:  # not configured (no codec keys, say): no link can be valid
        raise _Stop(_not_found("id"))
    token = request.match_info["token"]
    now = pages.now()
    try:
        claims = pages.tokens.verify(token, now=now, max_age=TOKEN_MAX_AGE)
    except InvalidReferralToken as bad:
        log.info("referral_page_bad_token", reason=str(bad))
        raise _Stop(_not_found("id")) from None
    office = pages.registry.offices.get(claims.office)
    if office is None or office.adapter != "email":
        # An office removed from the agreement, or that now answers through a system of its own: its links
        # die with the e-mail channel.
        raise _Stop(_not_found("id"))
    return _Visit(token=token, claims=claims, office=office, language=_language(office), pages=pages, now=now)


async def _view(request: web.Request, visit: _Visit, *, personal: bool) -> m.ReferralPage:
    """The referral from the case; `personal=False` asks with an empty agreement, so no field even travels."""
    if not visit.pages.reads.take(visit.token, visit.now):
        raise _Stop(_error(visit.language, 429, N_("Too many requests"),
                           N_("This link was opened too often in a short time. Please wait a minute and try again.")))
    office = visit.office if personal else visit.office.model_copy(update={"receives": []})
    cases = request.config_dict[RESOURCES].temporal.cases
    try:
        view = await cases.referral_page(visit.claims.case_id,
                                         m.ReferralPageQuestion(referral_id=visit.claims.referral_id, office=office))
    except CaseNotFound:
        raise _Stop(_not_found(visit.language)) from None
    if view is None or view.case_id != visit.claims.case_id:
        raise _Stop(_not_found(visit.language))
    if view.status in ("completed", "declined", "cancelled", "failed"):
        # Closed before `closed_at` was kept (older states): counted from the link's issue, the earlier bound.
        closed_at = view.closed_at or visit.claims.issued_at
        if visit.now - closed_at > CLOSED_FOR:
            raise _Stop(_not_found(visit.language))
    return view


def _withheld(visit: _Visit, view: m.ReferralPage) -> str | None:
    """Why the page shows no personal data, in the office's words; None when it does."""
    _ = visit.words()
    if view.shareable:
        return None
    if not view.consent_allows:
        return _("Personal data is not shown: the victim has withdrawn consent to share their data with your "
                 "office. Do not use or keep the personal data you received earlier.")
    if view.case_closed:
        return _("Personal data is not shown: the case is closed.")
    if view.status == "held":
        return _("Personal data is not shown: the referral is on hold until the victim gives consent.")
    return _("Personal data is not shown: this referral is closed.")


def _field_value(value: Any, language: Language) -> str:
    _ = _words(language)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(_field_value(v, language) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_field_value(v, language)}" for k, v in value.items())
    return str(value)


# Places are kept by code (`KALSEL`, `63.03`); people read them by name, with the code (SPEC "Places").
_PLACES: dict[str, Callable[[str, str | None], str]] = {
    "province": lambda value, province: places.province_label(value),
    "regency": places.label, "person.home_regency": places.label,
}


def _shown_fields(view: m.ReferralPage, language: Language) -> list[tuple[str, str]]:
    _ = _words(language)
    rows = []
    province = view.fields.get("province") if isinstance(view.fields, dict) else None
    for dotted in view.field_names:
        value: Any = view.fields
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if dotted in _PLACES and isinstance(value, str):
            value = _PLACES[dotted](value, province)
        rows.append((_(FIELDS.get(dotted, dotted)), _field_value(value, language)))
    return rows


# --- handlers ----------------------------------------------------------------------------------------------


def _handler(work: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
    """Every outcome as a page in the office's language; nothing escapes to the gateway's JSON errors."""

    async def handle(request: web.Request) -> web.Response:
        started = time.perf_counter()
        language: Language = "id"
        try:
            page, language = await work(request)
        except _Stop as stop:
            page = stop.page
            language = _language_of(request)
        except CaseError:
            page, language = _unavailable(_language_of(request)), _language_of(request)
        except Exception as exc:  # noqa: BLE001 - a page, never a stack trace or a JSON body, to an office
            log.exception("referral_page_bug", exc_type=type(exc).__qualname__)
            language = _language_of(request)
            page = _error(language, 500, N_("Something went wrong"), N_("Please try again later."))
        # Ids and status only: never the token (it opens the page), the passcode or the form.
        log.info("referral_page", method=request.method, status=page.status,
                 duration_ms=round((time.perf_counter() - started) * 1000, 1))
        return _render(page, language)

    return handle


def _language_of(request: web.Request) -> Language:
    # For pages answered before or beside a visit: the language of the office the link names, if it verifies.
    pages = _pages(request)
    if pages is None:
        return "id"
    try:
        claims = pages.tokens.verify(request.match_info["token"], now=pages.now(), max_age=TOKEN_MAX_AGE)
    except InvalidReferralToken:
        return "id"
    return _language(pages.registry.offices.get(claims.office))


async def _form(request: web.Request, visit: _Visit) -> dict[str, str]:
    if request.content_type != "application/x-www-form-urlencoded":
        raise _Stop(_error(visit.language, 400, N_("Form not valid"),
                           N_("The form has expired or is not valid. Open the link from the e-mail again.")))
    try:  # capped as it is read: a chunked body has no Content-Length to check first
        body = await read_capped(request, MAX_FORM_BYTES, FORM_READ_SECONDS)
    except ApiError as exc:
        if exc.status == 413:
            raise _Stop(_error(visit.language, 413, N_("Form not valid"), N_("The text is too long."))) from None
        # A form that did not arrive in time (a slow connection) is not a long text: say so, and to send it again.
        raise _Stop(_error(visit.language, 408, N_("Form not received"),
                           N_("The form did not arrive in time. Please send it again."))) from None
    try:
        posted = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise _Stop(_error(visit.language, 400, N_("Form not valid"),
                           N_("The form has expired or is not valid. Open the link from the e-mail again."))) from None
    return {k: v[0] for k, v in posted.items()}


async def show_gate(request: web.Request) -> tuple[Page, Language]:
    """GET: ids, service, status, due time, and the access-code form. Reads only: changes nothing anywhere."""
    visit = _visit(request)
    view = await _view(request, visit, personal=False)
    return _gate(visit, view), visit.language


def _gate(visit: _Visit, view: m.ReferralPage, message: str | None = None, status: int = 200) -> Page:
    _ = visit.words()
    until = visit.pages.locks.locked_until(visit.token, visit.now)
    if until is not None:
        message = _locked(visit, until)
        status = 429
    form = visit.form("unlock") if until is None else None
    return Page("gate.html", status, _("Referral %(id)s") % {"id": view.referral_id},
                {**visit.summary(view), "message": message, "form": form,
                 "action": f"/r/{visit.token}/unlock"})


def _locked(visit: _Visit, until: datetime) -> str:
    _ = visit.words()
    return _("Too many wrong access codes. This link is locked until %(until)s.") % {
        "until": local_datetime(until, visit.office, visit.language)}


async def unlock(request: web.Request) -> tuple[Page, Language]:
    """POST the access code: the referral with its fields (recorded in the case) and the answers."""
    visit = _visit(request)
    locks = visit.pages.locks
    if (until := locks.locked_until(visit.token, visit.now)) is not None:
        # Locked: even the right code is refused, and the case is not asked anything (no query per guess).
        return _error(visit.language, 429, N_("Link locked"), _locked(visit, until)), visit.language
    # The case first: a link that leads to no referral of that office is a 404, whatever the form holds.
    view = await _view(request, visit, personal=False)
    posted = await _form(request, visit)
    visit.check_form("unlock", posted)
    _ = visit.words()
    expected = visit.pages.passcode_of(visit.office)
    if expected is None:
        return _gate(visit, view, _("No access code has been set for your office. Please contact the case "
                                    "manager."), 403), visit.language
    # Constant time, over digests of equal length: neither how much of the code is right nor its length shows
    # in the answer's timing.
    given = hashlib.sha256(posted.get("passcode", "").strip().encode()).digest()
    if not hmac.compare_digest(given, hashlib.sha256(expected.encode()).digest()):
        left, until = locks.wrong(visit.token, visit.now)
        log.info("referral_page_wrong_passcode", office=visit.office.id, left=left)
        message = _locked(visit, until) if until else _(
            "Wrong access code. %(left)s more tries before this link is locked for a while.") % {"left": left}
        return _gate(visit, view, message, 403), visit.language
    locks.right(visit.token)
    view = await _view(request, visit, personal=True)
    if view.shareable and view.field_names:
        # Recorded before anything is shown: if the case cannot record it, the page shows nothing personal.
        cases = request.config_dict[RESOURCES].temporal.cases
        try:
            await cases.record_page_unlock(view.case_id, m.PageUnlock(
                referral_id=view.referral_id, office=visit.office.id, fields=view.field_names, at=visit.now))
        except (NotAParty, CaseNotFound):
            raise _Stop(_not_found(visit.language)) from None
        log.info("referral_page_unlocked", case_id=view.case_id, referral_id=view.referral_id,
                 office=visit.office.id, fields=len(view.field_names))
    return _referral(visit, view), visit.language


def _referral(visit: _Visit, view: m.ReferralPage, *, message: str | None = None, next_step: str | None = None,
              status: int = 200, session: str | None = None) -> Page:
    _ = visit.words()
    return Page("referral.html", status, _("Referral %(id)s") % {"id": view.referral_id},
                {**visit.summary(view), "fields": _shown_fields(view, visit.language),
                 "withheld": _withheld(visit, view), "answers": visit.answers(view),
                 "form": visit.form("answer", session),
                 "action": f"/r/{visit.token}", "message": message, "next_step": next_step})


async def answer(request: web.Request) -> tuple[Page, Language]:
    """POST one answer: the office's `referral.*` event, through the gateway's own path, applied once."""
    visit = _visit(request)
    view = await _view(request, visit, personal=False)  # a link to no referral of that office: 404 first
    posted = await _form(request, visit)
    visit.check_form("answer", posted)
    _ = visit.words()
    name = posted.get("answer", "")
    text = " ".join(posted.get("text", "").split()) or None
    if name not in EVENT_TYPES:
        raise _Stop(_error(visit.language, 400, N_("Form not valid"),
                           N_("The form has expired or is not valid. Open the link from the e-mail again.")))
    code = posted.get("reason_code") if name == "decline" else None
    if name == "decline" and code not in DECLINE_REASONS:
        return _referral(visit, view, message=_("Choose why your office declines the referral."),
                         status=400, session=posted["session"]), visit.language
    if name == "decline" and not text:
        return _referral(visit, view, message=_("A reason is required to decline the referral."),
                         status=400, session=posted["session"]), visit.language
    event = _event(visit, name, text, code)
    try:
        outcome = await apply_from(request, visit.office, event)
    except (EventRefused, NotAllowed, NotAParty, EventIdReused, ApiError) as refused:
        return await _refused(request, visit, refused, posted["session"]), visit.language
    view = await _view(request, visit, personal=False)
    message = (_("This answer was already recorded earlier; nothing was changed.") if outcome.duplicate
               else _("Your answer has been recorded."))
    log.info("referral_page_answer", case_id=view.case_id, referral_id=view.referral_id, office=visit.office.id,
             type=event.type, duplicate=outcome.duplicate)
    return _referral(visit, view, message=message, next_step=_(NEXT_STEPS[name]),
                     status=200, session=posted["session"]), visit.language


def _event(visit: _Visit, name: str, text: str | None, code: str | None = None) -> Event:
    # The id is derived from the link and the answer: a double click, a resend after a lost reply, or the same
    # answer from two tabs is one event, which the case answers as a duplicate (SPEC "Authority").
    digest = hashlib.sha256(f"{visit.token}\x1f{name}".encode()).hexdigest()[:32]
    raw = {"event_id": f"page-{digest}", "case_id": visit.claims.case_id, "type": EVENT_TYPES[name],
           "occurred_at": visit.now.isoformat(), "source": visit.office.id,
           "data": {"referral_id": visit.claims.referral_id, "reason": text,
                    **({"reason_code": code} if code else {})}}
    try:
        return EVENT_ADAPTER.validate_python(raw, context=limits.STRICT)
    except ValidationError:
        raise _Stop(_error(visit.language, 400, N_("Form not valid"), N_("The text is too long."))) from None


async def _refused(request: web.Request, visit: _Visit, refused: Exception, session: str) -> Page:
    """The agreement, the case's authority or its rules said no: a page that says which, never a 500."""
    _ = visit.words()
    view = await _view(request, visit, personal=False)
    code = getattr(refused, "code", None)
    if isinstance(refused, NotAllowed | NotAParty) or code in ("not_allowed", "not_a_party"):
        message, status = _("Your office is not authorised to give this answer for this referral."), 403
    elif isinstance(refused, EventIdReused):
        message, status = _("This answer was already given with a different text; the first answer stands."), 409
    elif isinstance(refused, EventRefused):
        message, status = _("This answer cannot be given now: the referral is %(status)s.") % {
            "status": _(STATUSES.get(view.status, view.status))}, 409
    elif isinstance(refused, ApiError) and refused.status == 503:
        message, status = _("The system is busy. Please try again in a few minutes."), 503
    else:
        message, status = _("This answer could not be recorded."), 400
    log.info("referral_page_refused", office=visit.office.id, referral_id=view.referral_id, status=status,
             error=code or type(refused).__name__)
    return _referral(visit, view, message=message, status=status, session=session)


async def _headers_on_every_page(request: web.Request, response: web.StreamResponse) -> None:
    # Also on what aiohttp or the JSON middleware answer for these paths (a wrong method, a body too large).
    if request.path.startswith("/r/"):
        response.headers.update(SECURITY_HEADERS)


def install(app: web.Application) -> None:
    """Mount the page's routes on the gateway `app` (`sinergi.gateway.app.create_app`)."""
    app.on_response_prepare.append(_headers_on_every_page)
    app.router.add_get("/r/{token}", _handler(show_gate))
    # A GET on the unlock address (a reload after a POST, a scanner) is the gate again: it changes nothing.
    app.router.add_get("/r/{token}/unlock", _handler(show_gate))
    app.router.add_post("/r/{token}/unlock", _handler(unlock))
    app.router.add_post("/r/{token}", _handler(answer))
