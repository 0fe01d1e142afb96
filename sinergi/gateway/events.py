"""`POST /v1/agencies/{office}/events`: one signed event envelope from an agency system.

Checks run cheapest and least revealing first — content type, size, UTF-8, signature — so a caller
without the office's secret learns nothing. Only then is the body parsed, validated, authorized and
handed to the case as one Temporal update, which the case applies whole or refuses whole.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

import structlog
from aiohttp import web
from pydantic import ValidationError

from sinergi.cases import CaseError
from sinergi.domain import limits
from sinergi.domain.agencies import Office
from sinergi.domain.events import EVENT_ADAPTER, EVENT_CLASSES, Event
from sinergi.gateway.auth import authorize_type
from sinergi.gateway.body import decode_utf8, parse_object, read_capped, require_json
from sinergi.gateway.errors import ApiError, BadRequest, FieldError, RetryAdvice, Unavailable, from_case_error
from sinergi.gateway.resources import LANES, RESOURCES, SETTINGS
from sinergi.platform.telemetry import annotate
from sinergi.workflows import messages as m

log = structlog.get_logger("sinergi.gateway")

T = TypeVar("T")


async def post_event(request: web.Request) -> web.Response:
    """Authenticate, validate, authorize and apply one event; see `errors.EVENT_STATUSES`."""
    started = time.perf_counter()
    office_id = request.match_info["office"]
    outcome: dict[str, object] = {"office": office_id}
    try:
        response = await _apply(request, office_id, outcome)
        outcome["status"] = response.status
        return response
    except ApiError as err:
        outcome.update(status=err.status, error=err.code)
        raise
    except CaseError as exc:
        translated = from_case_error(exc)
        outcome.update(status=translated.status, error=translated.code)
        raise translated from exc
    except asyncio.CancelledError:
        outcome["error"] = "cancelled"  # the client hung up under a server that cancels handlers
        raise
    finally:
        # One line per request: ids and codes only, never the body, headers or secrets.
        log.info("gateway_event", duration_ms=round((time.perf_counter() - started) * 1000, 1), **outcome)
        annotate(case_id=outcome.get("case_id"), event_type=outcome.get("type"), event_id=outcome.get("event_id"))


async def _apply(request: web.Request, office_id: str, outcome: dict[str, object]) -> web.Response:
    settings = request.config_dict[SETTINGS]
    resources = request.config_dict[RESOURCES]
    require_json(request)
    body = await read_capped(request, settings.max_body_bytes, settings.read_timeout_seconds)
    text = decode_utf8(body)
    office = resources.verifiers.verify(office_id, body, request.headers)

    raw = parse_object(text)
    if raw.get("event_id") != request.headers["webhook-id"]:
        raise BadRequest("webhook-id must equal the body's event_id", code="webhook_id_mismatch")
    # The signature proves who sent it: the office's own id is the source, whatever the body claims.
    raw["source"] = office.id
    event = _validate(raw)
    outcome.update(case_id=event.case_id, event_id=event.event_id, type=event.type)

    result = await apply_from(request, office, event)
    outcome["duplicate"] = result.duplicate
    return web.json_response(result.model_dump(mode="json"), status=200 if result.duplicate else 202)


async def apply_from(request: web.Request, office: Office, event: Event) -> m.EventOutcome:
    """Hand a validated event from `office` to its case: the agreement (403 at once), the case's lane, the apply
    timeout, then the case's own authority, validator, limits and idempotency. The one path of every office's
    event, whichever door it came in by: a signed webhook (above) or the referral page (`referral_page`)."""
    settings = request.config_dict[SETTINGS]
    authorize_type(office, event.type)
    cases = request.config_dict[RESOURCES].temporal.cases

    sent = asyncio.Event()

    async def in_turn() -> m.EventOutcome:
        async with request.config_dict[LANES].hold(event.case_id):
            sent.set()
            # The case checks that the office takes part in it (403 not_a_party), as it applies the event.
            return await cases.send(event, sender=office.sender)

    # The wait for the case's earlier events counts too: under load the sender hears 503 + Retry-After
    # within the timeout rather than its own client giving up and sending again into a longer queue.
    return await _within(settings.apply_timeout_seconds, in_turn(), sent)


async def _within(seconds: float, work: Awaitable[T], sent: asyncio.Event) -> T:
    """`work`'s answer, or 503 after `seconds`; `sent` is set once the event was handed to Temporal."""
    try:
        async with asyncio.timeout(seconds):
            return await work
    except TimeoutError:
        # Timed out while the update was in flight: the server holds it and may yet deliver it to the case
        # (a retry is then a 200 duplicate). Still waiting for the case's earlier events: nothing was sent.
        advice = RetryAdvice(may_still_apply=sent.is_set())
        raise Unavailable(f"the case did not answer within {seconds:g} s; retry later",
                          code="case_unavailable", details=advice.model_dump()) from None


def _validate(raw: dict) -> Event:
    try:
        event = EVENT_ADAPTER.validate_python(raw, context=limits.STRICT)
    except ValidationError as exc:
        problems = [_field_error(err, raw.get("type")) for err in exc.errors(include_url=False, include_input=False)]
        raise BadRequest(f"invalid event: {len(problems)} bad field(s)", code="invalid_event",
                         details=[p.model_dump() for p in problems]) from None
    # The model cannot read a clock; the case checks this too, against its own (limits.occurred_at_refusal).
    if reason := limits.occurred_at_refusal(event.occurred_at, datetime.now(UTC)):
        problem = FieldError(field="occurred_at", message=reason, type="date_too_far_ahead")
        raise BadRequest("invalid event: 1 bad field(s)", code="invalid_event", details=[problem.model_dump()])
    return event


def _field_error(err, event_type: object) -> FieldError:
    loc = list(err["loc"])
    if loc and loc[0] == event_type and event_type in EVENT_CLASSES:
        loc = loc[1:]  # the discriminated union prefixes every location with the event type
    if err["type"] == "union_tag_invalid":
        return FieldError(field="type", message="unknown event type (see GET /v1/openapi.json)", type=err["type"])
    if err["type"] == "union_tag_not_found":
        return FieldError(field="type", message="Field required", type="missing")
    return FieldError(field=".".join(str(p) for p in loc) or "(body)", message=err["msg"], type=err["type"])
