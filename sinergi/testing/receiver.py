"""A stand-in for the gateway's event endpoint, for tests: `POST /v1/agencies/{office}/events`.

It answers as SPEC's gateway does — 401 bad signature, 400 invalid, 403 not allowed by the office's
`may_send`, 404 unknown case, 409 refused by the case, 200 duplicate, 202 applied, 503 Temporal
unreachable — and applies events through `sinergi.cases.Cases`, so adapter and sandbox tests need no
gateway process. It is a test double, not the gateway: no OpenAPI, no body-size policy, no codec.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from sinergi.cases import CaseNotFound, Cases, EventRefused, ServiceUnavailable
from sinergi.domain.agencies import AgencyRegistry
from sinergi.domain.events import parse_event
from sinergi.sandbox.server import error, signed_body_error


@dataclass
class EventReceiver:
    cases: Cases
    registry: AgencyRegistry
    secrets_file: Path | None = None
    environ: dict[str, str] | None = None
    answered: list[tuple[str, str, int]] = field(default_factory=list)  # (office, event type, status)

    def statuses(self, status: int) -> list[tuple[str, str, int]]:
        return [a for a in self.answered if a[2] == status]

    def answer(self, office: str, event_type: str, response: web.Response) -> web.Response:
        self.answered.append((office, event_type, response.status))
        return response


RECEIVER: web.AppKey[EventReceiver] = web.AppKey("receiver")


async def _event(request: web.Request) -> web.Response:
    receiver = request.app[RECEIVER]
    office = receiver.registry.offices.get(request.match_info["office"])
    if office is None:
        return error(404, "unknown_agency", f"no agency {request.match_info['office']}")
    body = await request.read()
    if refused := signed_body_error(office, "inbound", body, request, environ=receiver.environ,
                                    secrets_file=receiver.secrets_file):
        return refused
    try:
        raw = json.loads(body)
        event: Any = parse_event({**raw, "source": office.id})  # a union of many types: opaque to mypy
    except (ValueError, ValidationError) as exc:
        return error(400, "invalid", f"invalid event: {exc}")
    if event.event_id != request.headers.get("webhook-id"):
        return error(400, "invalid", "webhook-id must equal event_id")
    if not office.may_send_type(event.type):
        return receiver.answer(office.id, event.type, error(403, "forbidden", f"{office.id} may not send "
                                                                 f"{event.type}"))
    try:
        outcome = await receiver.cases.send(event)
    except EventRefused as exc:
        return receiver.answer(office.id, event.type, error(409, "refused", exc.reason, {"accepted": exc.accepted}))
    except CaseNotFound as exc:
        return receiver.answer(office.id, event.type, error(404, "unknown_case", str(exc)))
    except ServiceUnavailable as exc:
        return receiver.answer(office.id, event.type, error(503, "unavailable", str(exc)))
    return receiver.answer(office.id, event.type, web.json_response(
        outcome.model_dump(mode="json"), status=200 if outcome.duplicate else 202))


def receiver_app(receiver: EventReceiver) -> web.Application:
    app = web.Application()
    app[RECEIVER] = receiver
    app.router.add_post("/v1/agencies/{office}/events", _event)
    return app
