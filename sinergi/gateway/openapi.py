"""`GET /v1/openapi.json`: the OpenAPI 3.1 document, generated from the pydantic models the gateway uses.

Schemas come from the models themselves (the event union from `EVENT_ADAPTER`), statuses from
`errors.EVENT_STATUSES`: nothing here restates a field by hand, so the document cannot drift.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from sinergi import __version__
from sinergi.domain.events import EVENT_ADAPTER, EVENT_CLASSES, INTERNAL_EVENT_TYPES
from sinergi.gateway.codec_server import ALLOWED_HEADERS, CodecPayloads
from sinergi.gateway.errors import EVENT_STATUSES, ErrorBody, FieldError, Refusal
from sinergi.gateway.health import Health
from sinergi.gateway.resources import OPENAPI
from sinergi.workflows.messages import EventOutcome

_REF = "#/components/schemas/{model}"
_MODELS: list[type[BaseModel]] = [EventOutcome, ErrorBody, FieldError, Refusal, Health, CodecPayloads]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        out["headers"] = headers
    return out


def _schemas() -> dict[str, Any]:
    _, models = models_json_schema([(m, "validation") for m in _MODELS], ref_template=_REF)
    event = EVENT_ADAPTER.json_schema(ref_template=_REF)
    schemas = {**models.get("$defs", {}), **event.pop("$defs")}
    # Internal event types (recorded by the system itself) are refused at the gateway: not part of its API.
    internal = {_REF.format(model=EVENT_CLASSES[t].__name__) for t in INTERNAL_EVENT_TYPES}
    event["oneOf"] = [s for s in event["oneOf"] if s["$ref"] not in internal]
    event["discriminator"]["mapping"] = {
        t: ref for t, ref in event["discriminator"]["mapping"].items() if t not in INTERNAL_EVENT_TYPES}
    for name in (EVENT_CLASSES[t].__name__ for t in INTERNAL_EVENT_TYPES):
        schemas.pop(name, None)
    event["description"] = ("An event envelope. `source` is set by the gateway to the signing office's id; a "
                            "value sent in the body is replaced.")
    schemas["Event"] = event
    return schemas


_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}}
_SIGNATURE_HEADERS = [
    ("webhook-id", "equals the body's `event_id`"),
    ("webhook-timestamp", "Unix seconds; refused when more than 5 minutes off"),
    ("webhook-signature", "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the office's inbound secret "
                          "(space-separated list allowed)"),
]


def _event_endpoint() -> dict[str, Any]:
    outcome = _ref("EventOutcome")
    responses: dict[str, Any] = {
        "202": _json(outcome, "applied: the case's id, the event id and the stage after it"),
        "200": _json(outcome, "duplicate: this event id was already applied; nothing changed"),
    }
    for status, meaning in EVENT_STATUSES.items():
        responses[str(status)] = _json(_ref("ErrorBody"), meaning, _RETRY_AFTER if status == 503 else None)
    responses["400"]["description"] += "; `details` of `invalid_event` is a list of `FieldError`"
    responses["409"]["description"] += "; `details` is a `Refusal`"
    return {"post": {
        "operationId": "postAgencyEvent",
        "summary": "One event from an agency system, signed per Standard Webhooks",
        "parameters": [
            {"name": "office", "in": "path", "required": True, "description": "office id in the agency registry",
             "schema": {"type": "string"}},
            *({"name": n, "in": "header", "required": True, "description": d, "schema": {"type": "string"}}
              for n, d in _SIGNATURE_HEADERS),
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Event")}}},
        "responses": responses,
        "security": [{"standardWebhooks": []}],
    }}


def _codec_endpoint(action: str) -> dict[str, Any]:
    errors = {"400": "not `{payloads: [...]}`, or a payload that cannot be decrypted",
              "401": "missing or wrong bearer token", "403": "origin or namespace not allowed",
              "408": "the body did not arrive in time", "413": "body larger than `gateway.codec_max_body_bytes`",
              "415": "content type is not `application/json`"}
    return {
        "post": {
            "operationId": f"codec{action.title()}",
            "summary": f"Temporal codec server: {action} payloads" + (" (each call is logged)"
                                                                      if action == "decode" else ""),
            "parameters": [{"name": "X-Namespace", "in": "header", "required": False,
                            "description": "Temporal namespace; must be the one this gateway serves",
                            "schema": {"type": "string"}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CodecPayloads")}}},
            "responses": {"200": _json(_ref("CodecPayloads"), f"the {action}d payloads, in order"),
                          **{s: _json(_ref("ErrorBody"), d) for s, d in errors.items()}},
            "security": [{"codecToken": []}],
        },
        "options": {
            "operationId": f"codec{action.title()}Preflight",
            "summary": "CORS preflight; allowed only from `gateway.ui_origins`",
            "responses": {"204": {"description": f"allowed: methods POST, headers {ALLOWED_HEADERS}"},
                          "403": _json(_ref("ErrorBody"), "origin not allowed")},
        },
    }


def openapi_document(base_url: str) -> dict[str, Any]:
    """The whole document, for a gateway reachable at `base_url`."""
    health = _ref("Health")
    return {
        "openapi": "3.1.0",
        "info": {"title": "sinergi gateway", "version": __version__,
                 "description": "Agency systems send case events; the Temporal UI decodes payloads."},
        "servers": [{"url": base_url}],
        "paths": {
            "/v1/agencies/{office}/events": _event_endpoint(),
            "/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "this document",
                                         "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document")}}},
            "/healthz": {"get": {"operationId": "healthz", "summary": "the process is up",
                                 "responses": {"200": _json(health, "up")}}},
            "/readyz": {"get": {"operationId": "readyz", "summary": "Temporal reachable and configuration loaded",
                                "responses": {"200": _json(health, "ready"),
                                              "503": _json(health, "not ready", _RETRY_AFTER)}}},
            "/codec/encode": _codec_endpoint("encode"),
            "/codec/decode": _codec_endpoint("decode"),
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "standardWebhooks": {"type": "apiKey", "in": "header", "name": "webhook-signature",
                                     "description": "Standard Webhooks signature with the office's inbound secret"},
                "codecToken": {"type": "http", "scheme": "bearer",
                               "description": "the token in the env var named by `gateway.codec_token_env`"},
            },
        },
    }


async def serve_openapi(request: web.Request) -> web.Response:
    return web.json_response(request.config_dict[OPENAPI])
