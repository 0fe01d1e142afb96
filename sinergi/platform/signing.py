"""Standard Webhooks signatures for every message between sinergi and agency systems, both ways.

One place signs and verifies, through the `standardwebhooks` reference implementation: the outbound
adapter signs referrals with an office's outbound secret; agency systems (and the sandbox) sign events
with the office's inbound secret; whoever receives verifies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class BadSignature(Exception):
    """Missing, malformed, stale (more than 5 minutes off) or wrong signature headers."""


def signed_headers(secret: str, msg_id: str, body: bytes, now: datetime | None = None) -> dict[str, str]:
    """The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers for `body`."""
    now = now or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, now, body.decode("utf-8"))
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> str:
    """Check the signature of `body`; return its `webhook-id`. Raises BadSignature."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        Webhook(secret).verify(body.decode("utf-8"), lowered, json_parse=False)
    except WebhookVerificationError as exc:
        raise BadSignature(str(exc)) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        # The library assumes well-formed `v1,<base64>` pairs; a forged header can break that assumption.
        raise BadSignature(f"malformed signature headers: {exc}") from exc
    return lowered["webhook-id"]
