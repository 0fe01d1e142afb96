"""The Temporal codec-server protocol, so the Temporal UI and CLI can read encrypted payloads.

`POST /codec/encode` and `POST /codec/decode` take and return `{"payloads": [...]}` in protobuf JSON
form. Both need `Authorization: Bearer <token>` (the token from the env var named by
`gateway.codec_token_env`) or, under `sinergi dev` only, the session cookie of the link it printed
(sinergi.gateway.devlogin), sent from an allowed UI origin. An `Origin` header alone grants nothing: any
local process can set it. Browsers may read the answers only from `gateway.ui_origins` (CORS; with
credentials when `sinergi dev` serves its link). Every decode is logged — who asked ("codec-token holder"
or "dev-ui-session"), from where, for which namespace and workflow — never what it contained.

`OPTIONS` without an `Origin` is not a CORS preflight: it answers 204 with `Allow` and no CORS headers.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import unquote

import structlog
from aiohttp import web
from google.protobuf import json_format
from pydantic import BaseModel, Field, ValidationError
from temporalio.api.common.v1 import Payloads
from temporalio.converter import WorkflowSerializationContext

from sinergi.domain.limits import DOCUMENT_MAX_BYTES
from sinergi.gateway import devlogin, stamping
from sinergi.gateway.body import decode_utf8, parse_object, read_capped, require_json
from sinergi.gateway.errors import ApiError, BadRequest, Forbidden, Unauthorized, Unavailable, error_response
from sinergi.gateway.identities import NotAdmitted
from sinergi.gateway.masking import mask_payload
from sinergi.gateway.principals import LEAST_PRIVILEGE, Principal, may_see_personal
from sinergi.gateway.resources import RESOURCES, SETTINGS
from sinergi.platform.codec import sealed_for
from sinergi.platform.remote_codec import CASE_ID_BYTES_MAX, CASE_ID_LINES_MAX

log = structlog.get_logger("sinergi.gateway.codec")

ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
CASE_ID_BODY_MAX = CASE_ID_BYTES_MAX + 64 * 1024  # what the CLI sends at most, and the object around it
ALLOWED_METHODS = "POST, OPTIONS"
MAX_TOKEN_CHARS = 8192  # an access token is a few KB at most: a longer one is refused before anything reads it
LOOPBACK = ("127.0.0.1", "::1")
# The UI's pages are /namespaces/<ns>/workflows/<workflow id>/<run id>/...: the Referer names the workflow.
_WORKFLOW_IN_REFERER = re.compile(r"/workflows/([^/?#]{1,255})")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def codec_app() -> web.Application:
    """The codec endpoints as a sub-application, mounted under `/codec`."""
    app = web.Application(middlewares=[_cors])
    for name, handler in (("encode", encode), ("decode", decode), ("case-ids", case_ids)):
        app.router.add_post(f"/{name}", handler)
        app.router.add_route("OPTIONS", f"/{name}", _preflight)
    return app


@web.middleware
async def _cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only the configured UI origins, and no one else's browser, may call the codec endpoints."""
    settings = request.config_dict[SETTINGS]
    origin = request.headers.get("Origin")
    if origin is not None and origin not in settings.ui_origins:
        return error_response(Forbidden(f"origin {origin} is not allowed", code="origin_not_allowed"))
    try:
        response = await handler(request)
    except ApiError as err:
        response = error_response(err)  # with the CORS headers below, so the UI can show why
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin  # the exact origin, never "*"
        if settings.dev_ui_login is not None:
            # The UI sends the dev session cookie only with credentials, and reads the answer only if we allow it.
            response.headers["Access-Control-Allow-Credentials"] = "true"
    response.headers["Vary"] = "Origin"
    return response


async def _preflight(request: web.Request) -> web.Response:
    if "Origin" not in request.headers:
        # Not a CORS preflight but a plain OPTIONS: say what the resource allows, grant no browser anything.
        return web.Response(status=204, headers={"Allow": ALLOWED_METHODS})
    return web.Response(status=204, headers={
        "Access-Control-Allow-Methods": ALLOWED_METHODS,
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
    })


async def encode(request: web.Request) -> web.Response:
    """Encrypt payloads with the current key; an operator's events carry the operator's verified name."""
    resources = request.config_dict[RESOURCES]
    payloads, who, principal = await _payloads(request)
    try:
        stamped = stamping.stamp(list(payloads.payloads), principal, resources.verifiers.registry, resources.policy)
    except stamping.MayNotEnter as exc:
        log.warning("codec_encode_refused", problem="may_not_enter", role=principal.role, **who)
        raise Forbidden(str(exc), code="may_not_enter") from None
    codec = resources.codec
    if who.get("workflow_id") and hasattr(codec, "with_context"):
        # Sealed for the workflow the client names: a payload moved to another case is refused there.
        codec = codec.with_context(WorkflowSerializationContext(namespace=resources.namespace,
                                                                workflow_id=who["workflow_id"]))
    encoded = await codec.encode(stamped)
    log.debug("codec_encode", count=len(encoded), role=principal.role, **who)
    return _reply(encoded)


async def decode(request: web.Request) -> web.Response:
    """Decrypt payloads, masked for whoever may not see personal data; logs who asked and for which workflow,
    never the content."""
    resources = request.config_dict[RESOURCES]
    payloads, who, principal = await _payloads(request)
    try:
        decoded = await resources.codec.decode(list(payloads.payloads))
    except ValueError as exc:  # unknown key id or tampered data; the message names the key id only
        log.warning("codec_decode_refused", count=len(payloads.payloads), problem=str(exc), **who)
        raise BadRequest(str(exc), code="cannot_decode") from None
    masked = not may_see_personal(principal.role)
    if masked:
        decoded = [mask_payload(p) for p in decoded]
    # Each payload names its workflow, authenticated with its ciphertext: the audit trusts that over any header.
    bound = sorted({w for w in (sealed_for(p) for p in payloads.payloads) if w})
    await _audit(resources, who, principal, masked, bound)
    log.info("codec_decode", count=len(decoded), role=principal.role, masked=masked, **who)
    return _reply(decoded)


async def case_ids(request: web.Request) -> web.Response:
    """`sinergi case open --bulk` on a laptop without keys: each line's case-id suffix, derived under the codec key
    (`sinergi.bulk`), so a file opened again, from any laptop, opens nothing twice. Named operators who enter cases
    only; the lines (an intake each) are read, never kept or logged."""
    from sinergi.bulk import canonical_of, suffix_of

    settings = request.config_dict[SETTINGS]
    resources = request.config_dict[RESOURCES]
    principal = await _authorize(request)
    try:
        stamping.may_enter(principal)
    except stamping.MayNotEnter as exc:
        raise Forbidden(str(exc), code="may_not_enter") from None
    require_json(request)
    # A bulk file of 500 intakes fits in about 1 MiB: a smaller cap than the codec's keeps the work per request
    # (parsing and hashing, on the event loop) short beside the offices' events.
    cap = min(settings.codec_max_body_bytes, CASE_ID_BODY_MAX)
    body = await read_capped(request, cap, settings.read_timeout_seconds)
    try:
        lines = CaseIdLines.model_validate(parse_object(decode_utf8(body))).lines
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise BadRequest(f"expected {{\"lines\": [...]}}: {problems}") from None
    derived = []
    for number, line in enumerate(lines, start=1):
        try:
            value = parse_object(line)  # bounded as any body: depth, digits, no NaN, an object (the CLI sends intakes)
        except BadRequest as bad:
            raise BadRequest(f"line {number}: {bad.message.replace('body', 'line')}") from None
        derived.append(suffix_of(resources.codec.mac(canonical_of(value))))
    log.info("case_ids_derived", count=len(derived), who=principal.name, role=principal.role)
    return web.json_response({"suffixes": derived})


async def _audit(resources, who: dict[str, str | None], principal: Principal, masked: bool,
                 bound: list[str]) -> None:
    """Record in the case record who decoded, in which role, masked or not, before anything is shown (SPEC: every
    decode audited; `report access` lists a case's). A record that cannot take it refuses the decode (503):
    nothing is shown unaudited. A decode naming no case — the Temporal UI on another origin than the codec
    sends no page path in its Referer (deploy/README.md: serve /codec under the UI's origin) — is audited as
    unattributed (`UNATTRIBUTED`)."""
    if resources.record is None:
        return
    from datetime import UTC, datetime

    from sinergi.records import UNATTRIBUTED, DecodeAudited, RecordError

    at = datetime.now(UTC)
    facts = []
    for workflow_id in bound or [who.get("workflow_id") or ""]:
        case_id = workflow_id.removeprefix("case-") if workflow_id.startswith("case-") else UNATTRIBUTED
        facts.append(DecodeAudited(case_id=case_id, audit_id=uuid.uuid4().hex, workflow_id=workflow_id,
                                   who=principal.name, role=principal.role, masked=masked, at=at))
    workflow_id = ",".join(f.workflow_id for f in facts)
    try:
        await resources.record.write(facts)
    except (RecordError, ValueError) as exc:
        log.error("codec_decode_not_audited", workflow_id=workflow_id, problem=type(exc).__name__)
        raise Unavailable("the case record cannot audit this decode now; try again shortly",
                          code="audit_unavailable") from None


async def _payloads(request: web.Request) -> tuple[Payloads, dict[str, str | None], Principal]:
    """The request's payloads, who sent them (for the log) and as whom; refuses before reading the body."""
    settings = request.config_dict[SETTINGS]
    principal = await _authorize(request)
    who = _who(request, principal.name)
    require_json(request)
    body = await read_capped(request, settings.codec_max_body_bytes, settings.read_timeout_seconds)
    raw = parse_object(decode_utf8(body))
    try:
        # The documented schema (CodecPayloads) first: `payloads` required, more fields allowed anywhere,
        # as the codec-server protocol lets newer UIs and SDKs add them; protobuf then reads the bytes.
        CodecPayloads.model_validate(raw)
        return json_format.ParseDict(raw, Payloads(), ignore_unknown_fields=True), who, principal
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise BadRequest(f"expected {{\"payloads\": [...]}} in protobuf JSON form: {problems}") from None
    except json_format.ParseError as exc:
        raise BadRequest(f"expected {{\"payloads\": [...]}} in protobuf JSON form: {exc}") from None


async def _authorize(request: web.Request) -> Principal:
    """Who may call, and in which role: a bearer token's holder (`identities`), or (`sinergi dev`) the browser
    that opened its link, an engineer."""
    resources = request.config_dict[RESOURCES]
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if given:
        if scheme.lower() != "bearer" or len(given) > MAX_TOKEN_CHARS:
            raise _unauthorized()
        try:
            principal = await resources.identities.principal(given)
        except NotAdmitted as exc:
            if exc.reason == "record_unavailable":
                raise Unavailable("the case record cannot check operators now; try again shortly",
                                  code="record_unavailable") from None
            if exc.reason == "too_many_lookups":
                # A flood of made-up tokens: a real operator's token not yet cached waits a second, it is not
                # told that it is invalid.
                raise Unavailable("too many tokens to check right now; try again in a second", code="busy",
                                  headers={"Retry-After": "1"}) from None
            log.warning("codec_token_refused", reason=exc.reason, remote=request.remote)
            raise _unauthorized() from None
    elif _dev_ui_session(request):
        principal = Principal(name=devlogin.WHO, role=LEAST_PRIVILEGE, via="dev-ui-session")
    else:
        raise _unauthorized()
    namespace = request.headers.get("X-Namespace")
    if namespace is not None and namespace != resources.namespace:
        raise Forbidden(f"namespace {namespace} is not served here", code="namespace_not_allowed")
    return principal


def _dev_ui_session(request: web.Request) -> bool:
    """The cookie of `sinergi dev`'s link, from a browser page of an allowed UI origin, on this machine.

    The Origin is checked as well because the cookie goes to every port of this host: a page another local
    process serves is the same *site*, and its fetch would carry the cookie too (its Origin differs).
    """
    settings = request.config_dict[SETTINGS]
    login = settings.dev_ui_login
    return (login is not None and request.remote in LOOPBACK
            and request.headers.get("Origin") in settings.ui_origins
            and login.admits(request.cookies.get(devlogin.COOKIE)))


def _unauthorized() -> Unauthorized:
    return Unauthorized("a valid bearer token (an operator's, the identity provider's, or the codec token; under "
                        "`sinergi dev`, its UI link's session) is required",
                        code="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def _who(request: web.Request, who: str) -> dict[str, str | None]:
    referer = request.headers.get("Referer", "")
    found = _WORKFLOW_IN_REFERER.search(referer)
    return {
        # A named operator, the identity provider's user, or (a machine's token, the dev UI) a kind of caller.
        "who": who,
        "remote": request.remote,
        "user_agent": request.headers.get("User-Agent", "")[:200],
        "origin": request.headers.get("Origin"),
        "namespace": request.headers.get("X-Namespace"),
        "workflow_id": request.headers.get("X-Workflow-Id") or (unquote(found.group(1)) if found else None),
    }


def _reply(payloads: list) -> web.Response:
    # Built per payload: MessageToDict on the whole message would drop an empty list, and the UI wants it.
    return web.json_response({"payloads": [json_format.MessageToDict(p) for p in payloads]})


class CodecPayload(BaseModel):
    """One Temporal payload in protobuf JSON form (bytes as base64)."""

    metadata: dict[str, str] = Field(default_factory=dict, description="e.g. `encoding`: base64 of `json/plain`")
    data: str = Field(default="", description="base64 of the payload bytes")


class CaseIdLines(BaseModel):
    """`POST /codec/case-ids`: bulk-intake lines (one JSON intake each), as `sinergi case open --bulk` read them."""

    lines: list[Annotated[str, Field(max_length=DOCUMENT_MAX_BYTES)]] = Field(
        max_length=CASE_ID_LINES_MAX, description=f"at most {CASE_ID_LINES_MAX} lines, each a JSON object")


class CaseIdSuffixes(BaseModel):
    """Each line's case-id suffix, in order (the case id is `<PROVINCE>-<YEAR>-<suffix>`)."""

    suffixes: list[str]


class CodecPayloads(BaseModel):
    """The codec-server protocol's request and reply body."""

    payloads: list[CodecPayload]
