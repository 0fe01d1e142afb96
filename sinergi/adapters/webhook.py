"""The built-in `webhook` adapter: SPEC "Outbound adapter protocol" over the process's one HTTP session.

`POST {base_url}/referrals` (or `/notices`) with a JSON body, signed per Standard Webhooks with the
office's outbound secret, `Idempotency-Key: <referral_id | notice_id>`. Office settings used:
`base_url` (required), `outbound_secret_env`, `connect_timeout` (default 5 s), `read_timeout` (15 s).

A notice's `text` is what a person at the office reads: written here, in the office's `language`, from the
notice's fields (purpose, case, deadline and its source, escalation level) with the sentences of the notice
e-mail (`email_templates/notice.message.txt`); `language` says which. The workflow's own English sentence,
which the notice carried as `text` before (and which replays as it was written), is kept as `detail`.

Status mapping, the one place it is decided: 2xx delivered; 408, 429, 5xx, timeouts and connection
errors → AgencyUnavailable (retried); any other 4xx → AgencyRejected with the agency's reason.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp

from sinergi.adapters.base import AdapterContext, AgencyRejected, AgencyUnavailable, NoticeMessage, ReferralMessage
from sinergi.domain.agencies import Office
from sinergi.platform.secrets import MissingSecret, office_secret
from sinergi.platform.signing import signed_headers

if TYPE_CHECKING:
    from sinergi.adapters.email_render import EmailRenderer

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0
RETRYABLE_STATUSES = frozenset({408, 429})
MAX_REASON = 500


class WebhookAdapter:
    """Reaches every office configured with `adapter = "webhook"`."""

    name: ClassVar[str] = "webhook"

    def __init__(self, context: AdapterContext) -> None:
        if context.session is None:
            raise ValueError("the webhook adapter needs the process's shared aiohttp.ClientSession "
                             "(AdapterContext.session); it never opens its own")
        self.context = context
        self.session: aiohttp.ClientSession = context.session
        self._renderer: EmailRenderer | None = None  # built with the first notice: referrals need no words

    async def deliver_referral(self, office: Office, message: ReferralMessage) -> None:
        await self._post(office, "referrals", message.referral_id, message.model_dump(mode="json"))

    async def deliver_notice(self, office: Office, message: NoticeMessage) -> None:
        await self._post(office, "notices", message.notice_id, self.notice_body(office, message))

    def notice_body(self, office: Office, message: NoticeMessage) -> dict[str, Any]:
        """The notice as the office's system receives it: its fields, `text` in the office's language (with
        `language`), and the workflow's own English sentence as `detail`."""
        if self._renderer is None:
            from sinergi.adapters.email_render import EmailRenderer  # Jinja2 and Babel: only once a notice is sent

            self._renderer = EmailRenderer()
        body = message.model_dump(mode="json")
        body["detail"] = message.text
        body["text"] = self._renderer.paragraph(
            "notice.message", office.language, case_id=message.case_id, purpose=message.purpose, clock=message.clock,
            source=message.source, rung=message.rung)
        body["language"] = office.language
        return body

    async def close(self) -> None:
        # The session belongs to the composition root, which closes it after every adapter.
        return None

    async def _post(self, office: Office, path: str, key: str, payload: dict[str, Any]) -> None:
        base_url = office.settings.get("base_url")
        if not base_url:
            # Not a rejection: the agency never saw it. Retrying keeps the referral alive until the
            # registry is fixed, and degraded mode tells the operator meanwhile.
            raise AgencyUnavailable(f"office {office.id} has no settings.base_url in the agency registry")
        try:
            # An empty context environment means "the process's own" (os.environ).
            secret = office_secret(office, "outbound", self.context.environ or None, self.context.secrets_file)
        except MissingSecret as exc:
            raise AgencyUnavailable(str(exc)) from exc
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers = {**signed_headers(secret, key, body), "Content-Type": "application/json", "Idempotency-Key": key}
        connect = float(office.settings.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT))
        read = float(office.settings.get("read_timeout", DEFAULT_READ_TIMEOUT))
        timeout = aiohttp.ClientTimeout(total=connect + read, sock_connect=connect, sock_read=read)
        url = f"{str(base_url).rstrip('/')}/{path}"
        try:
            async with self.session.post(url, data=body, headers=headers, timeout=timeout) as response:
                if response.status < 300:
                    return
                text = await response.text(errors="replace")
                status = response.status
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError is one too (and a ClientError)
            raise AgencyUnavailable(f"{office.id}: no answer from {url} within {connect:g}s connect / "
                                    f"{read:g}s read") from exc
        except aiohttp.ClientError as exc:
            raise AgencyUnavailable(f"{office.id}: cannot reach {url}: {type(exc).__name__}: {exc}") from exc
        raise _status_error(office, status, text)


def _status_error(office: Office, status: int, text: str) -> AgencyUnavailable | AgencyRejected:
    reason = _reason(text)
    if status in RETRYABLE_STATUSES or status >= 500:
        return AgencyUnavailable(f"{office.id} answered {status}: {reason}")
    return AgencyRejected(reason or f"HTTP {status}", status)


def _reason(text: str) -> str:
    """The agency's own words: `message` (SPEC error body), else `reason`/`detail`/`error`, else the text."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "reason", "detail", "error"):
            if isinstance(body.get(key), str) and body[key].strip():
                return body[key].strip()[:MAX_REASON]
    return text.strip()[:MAX_REASON]
