"""Who is calling and what they may do: Standard Webhooks signatures and event types.

Whether the office takes part in the case is for the case to say (`Sender`, in the update validator).

An unknown office is answered exactly like a known office with a bad signature (401, same body,
an HMAC computed all the same), so the gateway never tells a stranger which office ids exist.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Mapping

import structlog
from standardwebhooks.webhooks import Webhook

from sinergi.domain.agencies import AgencyRegistry, Office
from sinergi.gateway.errors import Forbidden, Unauthorized
from sinergi.platform.secrets import MissingSecret
from sinergi.platform.signing import BadSignature, verify

log = structlog.get_logger("sinergi.gateway")

InboundSecret = Callable[[Office], str]


class Verifiers:
    """Checks each office's Standard Webhooks signatures with its inbound secret (looked up once)."""

    def __init__(self, registry: AgencyRegistry, inbound_secret: InboundSecret) -> None:
        self._registry = registry
        self._inbound_secret = inbound_secret
        self._secrets: dict[str, str] = {}
        self._reported: set[str] = set()  # offices whose unusable secret was logged: once, not per request
        # A key nobody holds: stands in for unknown offices, so they cost the same HMAC and get the same 401.
        self._nobody = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()

    @property
    def registry(self) -> AgencyRegistry:
        """The agreement registry the gateway serves (the codec endpoint rebuilds `--as` senders from it)."""
        return self._registry

    def _secret(self, office: Office | None) -> str:
        if office is None:
            return self._nobody
        secret = self._secrets.get(office.id)
        if secret is None:
            try:
                secret = self._inbound_secret(office)
                Webhook(secret)  # fails on a secret that is empty or not base64
            except MissingSecret as exc:
                self._report(office, "inbound_secret_missing", str(exc))
                return self._nobody
            except Exception:  # noqa: BLE001 - whatever the library raises, the secret is unusable
                # Never the exception text: it may quote the secret.
                self._report(office, "inbound_secret_invalid", "not a whsec_ base64 secret")
                return self._nobody
            self._secrets[office.id] = secret
        return secret

    def _report(self, office: Office, event: str, problem: str) -> None:
        if office.id not in self._reported:
            self._reported.add(office.id)
            log.error(event, office=office.id, problem=problem, effect="its events are refused with 401")

    def verify(self, office_id: str, body: bytes, headers: Mapping[str, str]) -> Office:
        """The office whose secret signed `body`; 401 for anything else, alike for every office id."""
        office = self._registry.offices.get(office_id)
        try:
            verify(self._secret(office), body, headers)
        except BadSignature as exc:
            raise Unauthorized(_reason(str(exc))) from None
        if office is None:  # unreachable in practice: nobody holds the stand-in's key
            raise Unauthorized(_reason(""))
        return office


def _reason(problem: str) -> str:
    """Our wording of the library's reasons (which never quote a secret); unknown ones stay generic."""
    if problem.startswith("malformed"):
        return "malformed webhook-signature header"
    return {
        "Missing required headers": "missing webhook-id, webhook-timestamp or webhook-signature header",
        "Message timestamp too old": "webhook-timestamp is more than 5 minutes old",
        "Message timestamp too new": "webhook-timestamp is more than 5 minutes in the future",
        "Invalid Signature Headers": "webhook-timestamp is not a Unix timestamp",
    }.get(problem, "no matching signature")


def authorize_type(office: Office, event_type: str) -> None:
    """403 unless the agreement lets this office send this event type: the case checks it again, with
    the rest of its authority (`sinergi.domain.authority`); this answers at once, without asking it."""
    if not office.may_send_type(event_type):
        raise Forbidden(f"office {office.id} may not send {event_type} events", code="not_allowed",
                        details={"may_send": office.may_send})
