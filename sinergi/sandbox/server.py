"""The sandbox agencies' HTTP side: one aiohttp app serving every office of the registry.

`POST /{office}/referrals` and `POST /{office}/notices` take the webhook adapter's messages; `GET /ledger`
shows what arrived (counts and field names, `?case_id=` to filter); `GET /healthz`. A request is checked
in the order a careful agency would: known office (404), signature with the office's outbound secret
(401), outage (503), failure rate (500), repeat of an idempotency key (200, not re-applied),
configured refusal (422), valid message (400); then it is applied (202) and the office's storyline starts.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from sinergi.adapters.base import NoticeMessage, ReferralMessage
from sinergi.domain.agencies import Office
from sinergi.platform.secrets import MissingSecret, office_secret
from sinergi.platform.signing import BadSignature, verify
from sinergi.platform.tracing import link_headers, server_middleware
from sinergi.sandbox.ledger import Kind

if TYPE_CHECKING:
    from sinergi.sandbox.runner import Sandbox

SANDBOX: web.AppKey[Sandbox] = web.AppKey("sandbox")
MAX_BODY = 256 * 1024
MESSAGES: dict[Kind, type[ReferralMessage] | type[NoticeMessage]] = {"referral": ReferralMessage,
                                                                      "notice": NoticeMessage}


def error(status: int, code: str, message: str, details: Any = None) -> web.Response:
    """An error answer in the gateway's shape (`{"error", "message", "details"}`): the sandbox agencies
    and the tests' stand-in gateway (`sinergi.testing.receiver`) answer alike."""
    return web.json_response({"error": code, "message": message, "details": details}, status=status)


def signed_body_error(office: Office, direction: str, body: bytes, request: web.Request, *,
                      environ: dict[str, str] | None, secrets_file: Path | None) -> web.Response | None:
    """401 unless `body` carries the office's valid Standard Webhooks signature for `direction`
    (`inbound`: an office's event; `outbound`: a message to the office); None when it does."""
    try:
        verify(office_secret(office, direction, environ, secrets_file), body, request.headers)
    except (BadSignature, MissingSecret) as exc:
        return error(401, "bad_signature", f"{office.id}: {exc}")
    return None


async def _receive(request: web.Request, kind: Kind) -> web.Response:
    sandbox = request.app[SANDBOX]
    office = sandbox.registry.offices.get(request.match_info["office"])
    if office is None:
        return error(404, "unknown_office", f"no office {request.match_info['office']} in this sandbox")
    body = await request.read()
    if refused := signed_body_error(office, "outbound", body, request, environ=sandbox.environ,
                                    secrets_file=sandbox.secrets_file):
        return refused
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return error(400, "missing_idempotency_key", "an Idempotency-Key header is required")
    entry = sandbox.ledger.attempt(office.id, kind, key)
    if sandbox.options.answer_delay:
        await asyncio.sleep(sandbox.options.answer_delay)
    if sandbox.down(office.id):
        entry.refused += 1
        return error(503, "unavailable", f"{office.id} is down (sandbox outage window)")
    if sandbox.rng.random() < sandbox.options.failure_rate:
        entry.refused += 1
        return error(500, "internal_error", f"{office.id} failed (sandbox failure rate)")
    if entry.applied:
        sandbox.ledger.apply(entry, {})  # counted as a duplicate, not re-applied
        return web.json_response({"status": "duplicate", "key": key}, status=200)
    if office.id in sandbox.rejecting:
        return error(422, "rejected", sandbox.rejecting[office.id])
    try:
        message = MESSAGES[kind].model_validate_json(body)
    except ValidationError as exc:
        return error(400, "invalid", f"not a valid {kind}", details=json.loads(exc.json(include_url=False)))
    payload = message.model_dump(mode="json")
    sandbox.ledger.apply(entry, payload)
    sandbox.act(office, kind, payload, trace=link_headers(request.headers))
    return web.json_response({"status": "accepted", "key": key}, status=202)


async def receive_referral(request: web.Request) -> web.Response:
    return await _receive(request, "referral")


async def receive_notice(request: web.Request) -> web.Response:
    return await _receive(request, "notice")


async def ledger(request: web.Request) -> web.Response:
    return web.json_response(request.app[SANDBOX].ledger.snapshot(request.query.get("case_id")))


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "offices": len(request.app[SANDBOX].registry.offices)})


def build_app(sandbox: Sandbox) -> web.Application:
    # An agency that traces its own work: each request continues the caller's trace.
    app = web.Application(client_max_size=MAX_BODY, middlewares=[server_middleware(link_only=False)])
    app[SANDBOX] = sandbox
    app.router.add_post("/{office}/referrals", receive_referral)
    app.router.add_post("/{office}/notices", receive_notice)
    app.router.add_get("/ledger", ledger)
    app.router.add_get("/healthz", healthz)
    return app
