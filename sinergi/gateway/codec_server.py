"""The Temporal codec-server protocol, so the Temporal UI and CLI can read encrypted payloads.

`POST /codec/encode` and `POST /codec/decode` take and return `{"payloads": [...]}` in protobuf JSON
form. Both need `Authorization: Bearer <token>` (the token from the env var named by
`gateway.codec_token_env`); browsers may call them only from `gateway.ui_origins`. Every decode is
logged — who asked, from where, for which namespace and workflow — never what it contained.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from urllib.parse import unquote

import structlog
from aiohttp import web
from google.protobuf import json_format
from pydantic import BaseModel, Field
from temporalio.api.common.v1 import Payloads

from sinergi.gateway.body import decode_utf8, parse_object, read_capped, require_json
from sinergi.gateway.errors import ApiError, BadRequest, Forbidden, Unauthorized, error_response
from sinergi.gateway.resources import RESOURCES, SETTINGS

log = structlog.get_logger("sinergi.gateway.codec")

ALLOWED_HEADERS = "Authorization, Content-Type, X-Namespace"
# The UI's pages are /namespaces/<ns>/workflows/<workflow id>/<run id>/...: the Referer names the workflow.
_WORKFLOW_IN_REFERER = re.compile(r"/workflows/([^/?#]{1,255})")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def codec_app() -> web.Application:
    """The codec endpoints as a sub-application, mounted under `/codec`."""
    app = web.Application(middlewares=[_cors])
    for name, handler in (("encode", encode), ("decode", decode)):
        app.router.add_post(f"/{name}", handler)
        app.router.add_route("OPTIONS", f"/{name}", _preflight)
    return app


@web.middleware
async def _cors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Only the configured UI origins, and no one else's browser, may call the codec endpoints."""
    origin = request.headers.get("Origin")
    allowed = request.config_dict[SETTINGS].ui_origins
    if origin is not None and origin not in allowed:
        return error_response(Forbidden(f"origin {origin} is not allowed", code="origin_not_allowed"))
    try:
        response = await handler(request)
    except ApiError as err:
        response = error_response(err)  # with the CORS headers below, so the UI can show why
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    return response


async def _preflight(request: web.Request) -> web.Response:
    if "Origin" not in request.headers:
        raise BadRequest("a CORS preflight needs an Origin header", code="not_a_preflight")
    return web.Response(status=204, headers={
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": "600",
    })


async def encode(request: web.Request) -> web.Response:
    """Encrypt payloads with the current key."""
    resources = request.config_dict[RESOURCES]
    payloads = await _payloads(request)
    encoded = await resources.codec.encode(list(payloads.payloads))
    log.debug("codec_encode", count=len(encoded), **_who(request))
    return _reply(encoded)


async def decode(request: web.Request) -> web.Response:
    """Decrypt payloads; logs who asked and for which workflow, never the content."""
    resources = request.config_dict[RESOURCES]
    payloads = await _payloads(request)
    who = _who(request)
    try:
        decoded = await resources.codec.decode(list(payloads.payloads))
    except ValueError as exc:  # unknown key id or tampered data; the message names the key id only
        log.warning("codec_decode_refused", count=len(payloads.payloads), problem=str(exc), **who)
        raise BadRequest(str(exc), code="cannot_decode") from None
    log.info("codec_decode", count=len(decoded), **who)
    return _reply(decoded)


async def _payloads(request: web.Request) -> Payloads:
    settings = request.config_dict[SETTINGS]
    _authorize(request)
    require_json(request)
    body = await read_capped(request, settings.codec_max_body_bytes, settings.read_timeout_seconds)
    raw = parse_object(decode_utf8(body))
    try:
        return json_format.ParseDict(raw, Payloads())
    except json_format.ParseError as exc:
        raise BadRequest(f"expected {{\"payloads\": [...]}} in protobuf JSON form: {exc}") from None


def _local_ui(request: web.Request) -> bool:
    """A browser on this machine showing the configured dev UI (`codec_trust_local_ui`, `sinergi dev` only)."""
    settings = request.config_dict[SETTINGS]
    return (settings.codec_trust_local_ui and request.remote in ("127.0.0.1", "::1")
            and request.headers.get("Origin") in settings.ui_origins)


def _authorize(request: web.Request) -> None:
    resources = request.config_dict[RESOURCES]
    token = resources.codec_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not given and _local_ui(request):
        return
    # compare_digest: the time taken must not reveal how much of the token was right.
    if not token or scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Unauthorized("a valid codec bearer token is required", code="unauthorized",
                           headers={"WWW-Authenticate": "Bearer"})
    namespace = request.headers.get("X-Namespace")
    if namespace is not None and namespace != resources.namespace:
        raise Forbidden(f"namespace {namespace} is not served here", code="namespace_not_allowed")


def _who(request: web.Request) -> dict[str, str | None]:
    referer = request.headers.get("Referer", "")
    found = _WORKFLOW_IN_REFERER.search(referer)
    return {
        # One shared token: its holder is whoever runs the UI or CLI; the remote and agent tell them apart.
        "who": "codec-token holder",
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


class CodecPayloads(BaseModel):
    """The codec-server protocol's request and reply body."""

    payloads: list[CodecPayload]
