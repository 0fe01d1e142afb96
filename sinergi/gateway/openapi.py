"""`GET /v1/openapi.json`: the OpenAPI 3.1 document, generated from the pydantic models the gateway uses.

Schemas come from the models themselves (the event union from `EVENT_ADAPTER`), statuses from
`errors.EVENT_STATUSES` and `errors.PROTOCOL_STATUSES` (what aiohttp refuses before any handler, answered
in the same JSON shape): nothing here restates a field by hand, so the document cannot drift.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from sinergi import __version__
from sinergi.domain.events import EVENT_ADAPTER, EVENT_CLASSES, INTERNAL_EVENT_TYPES
from sinergi.gateway import devlogin
from sinergi.gateway.codec_server import ALLOWED_HEADERS, ALLOWED_METHODS, CaseIdLines, CaseIdSuffixes, CodecPayloads
from sinergi.gateway.errors import EVENT_STATUSES, PROTOCOL_STATUSES, ErrorBody, FieldError, Refusal, RetryAdvice
from sinergi.gateway.health import Health
from sinergi.gateway.resources import OPENAPI, READY_CACHE_SECONDS
from sinergi.workflows.messages import EventOutcome

_REF = "#/components/schemas/{model}"
_MODELS: list[type[BaseModel]] = [EventOutcome, ErrorBody, FieldError, Refusal, RetryAdvice, Health, CodecPayloads,
                                   CaseIdLines, CaseIdSuffixes]


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


def _with_protocol_errors(responses: dict[str, Any]) -> dict[str, Any]:
    """`responses` and the answers aiohttp gives before any handler (as `ErrorBody`, like every error)."""
    for status, meaning in PROTOCOL_STATUSES.items():
        if str(status) in responses:
            responses[str(status)]["description"] += f"; or, before the request reached the gateway: {meaning}"
        else:
            responses[str(status)] = _json(_ref("ErrorBody"), meaning)
    return responses


# A 503 of the event endpoint: an ErrorBody whose `details` says whether the event may still be applied.
_UNAVAILABLE = {"allOf": [_ref("ErrorBody"), {"properties": {"details": _ref("RetryAdvice")}}]}


def _event_endpoint() -> dict[str, Any]:
    outcome = _ref("EventOutcome")
    responses: dict[str, Any] = {
        "202": _json(outcome, "applied: the case's id, the event id and the stage after it"),
        "200": _json(outcome, "duplicate: this event id was already applied; nothing changed"),
    }
    for status, meaning in EVENT_STATUSES.items():
        responses[str(status)] = _json(_UNAVAILABLE if status == 503 else _ref("ErrorBody"), meaning,
                                       _RETRY_AFTER if status == 503 else None)
    responses["400"]["description"] += "; `details` of `invalid_event` is a list of `FieldError`"
    responses["409"]["description"] += "; `details` of `event_refused` is a `Refusal`"
    responses["503"]["description"] += (
        "; `details` is a `RetryAdvice`: `may_still_apply` is true when the answer timed out while the event "
        "was with Temporal (it may be applied after this reply; the same `event_id` again then answers 200 "
        "duplicate), false when it was certainly not applied (Temporal not reached, the event still queued "
        "behind the case's earlier events, or refused by the server)")
    _with_protocol_errors(responses)
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


_CORS_ORIGIN = {"Access-Control-Allow-Origin": {
    "description": "the request's `Origin`, echoed only when it is one of `gateway.ui_origins` (never `*`)",
    "schema": {"type": "string"}}}


def _codec_endpoint(action: str) -> dict[str, Any]:
    given, gives = ("plain", "encrypted") if action == "encode" else ("encrypted", "plain")
    errors = {"400": "`invalid_body`: not `{\"payloads\": [...]}` in protobuf JSON, or a payload that cannot be "
                     "decrypted",
              "401": "`unauthorized` (with `WWW-Authenticate: Bearer`): no `Authorization: Bearer <token>` or a "
                     "wrong one (the token from the env var named by `gateway.codec_token_env`), and no valid "
                     f"`sinergi dev` UI session cookie (`{devlogin.COOKIE}`, from the link its banner prints, "
                     "sent from an allowed UI origin on loopback)",
              "403": "`origin_not_allowed`: the `Origin` is not one of `gateway.ui_origins`; "
                     "`namespace_not_allowed`: `X-Namespace` is not the namespace this gateway serves",
              "408": "the body did not arrive within `gateway.read_timeout_seconds`",
              "413": "body larger than `gateway.codec_max_body_bytes`",
              "415": "content type is not `application/json`"}
    payloads = ("`{\"payloads\": [{\"metadata\": {\"encoding\": \"<base64>\", ...}, \"data\": \"<base64>\"}]}`: "
                "the protobuf JSON form of `temporal.api.common.v1.Payloads` (metadata values and data are "
                "base64)")
    return {
        "post": {
            "operationId": f"codec{action.title()}",
            "summary": f"Temporal codec server: {action} payloads" + (" (each call is logged: who, from where, "
                                                                      "which workflow; never the content)"
                                                                      if action == "decode" else ""),
            "description": f"Takes {given} payloads and answers them {gives}, in the same order. Body: {payloads}.",
            "parameters": [{"name": "X-Namespace", "in": "header", "required": False,
                            "description": "Temporal namespace; must be the one this gateway serves",
                            "schema": {"type": "string"}},
                           {"name": "Origin", "in": "header", "required": False,
                            "description": "a browser's page origin; refused (403) unless in `gateway.ui_origins`",
                            "schema": {"type": "string"}}],
            "requestBody": {"required": True, "description": f"{given} payloads: {payloads}",
                            "content": {"application/json": {"schema": _ref("CodecPayloads")}}},
            "responses": _with_protocol_errors({
                "200": _json(_ref("CodecPayloads"), f"the {action}d ({gives}) payloads, in order", _CORS_ORIGIN),
                **{s: _json(_ref("ErrorBody"), d) for s, d in errors.items()}}),
            "security": [{"codecToken": []}, {"devUiSession": []}],
        },
        "options": {
            "operationId": f"codec{action.title()}Preflight",
            "summary": "CORS preflight (with `Origin`), allowed only from `gateway.ui_origins`; a plain OPTIONS "
                       "(no `Origin`) answers 204 with `Allow` and grants no browser anything",
            "parameters": [{"name": "Origin", "in": "header", "required": False,
                            "description": "the page origin asking; must be one of `gateway.ui_origins`",
                            "schema": {"type": "string"}}],
            "responses": _with_protocol_errors({
                "204": {"description": f"allowed: methods {ALLOWED_METHODS}, headers {ALLOWED_HEADERS}",
                        "headers": {
                            **_CORS_ORIGIN,
                            "Access-Control-Allow-Methods": {"description": f"`{ALLOWED_METHODS}` (preflight)",
                                                             "schema": {"type": "string"}},
                            "Access-Control-Allow-Headers": {"description": f"`{ALLOWED_HEADERS}` (preflight)",
                                                             "schema": {"type": "string"}},
                            "Access-Control-Max-Age": {"description": "seconds a browser may reuse the answer",
                                                       "schema": {"type": "integer"}},
                            "Allow": {"description": f"`{ALLOWED_METHODS}` (plain OPTIONS, no `Origin`)",
                                      "schema": {"type": "string"}}}},
                "403": _json(_ref("ErrorBody"), "`origin_not_allowed`: the `Origin` is not in `gateway.ui_origins`")}),
        },
    }


def _case_ids_endpoint() -> dict[str, Any]:
    return {"post": {
        "operationId": "codecCaseIds",
        "summary": "bulk intake on a laptop without keys: each line's case-id suffix, keyed with the codec key",
        "description": ("`sinergi case open --bulk` sends the lines it read (an intake each, as JSON); the answer is "
                        "each line's suffix in order (case id `<PROVINCE>-<YEAR>-<suffix>`), the same a key holder "
                        "derives, so a file opened again from any laptop opens nothing twice. A named operator's "
                        "token in a role that enters cases (caseworker, supervisor) only. The lines are neither kept "
                        "nor logged."),
        "parameters": [{"name": "X-Namespace", "in": "header", "required": False,
                        "description": "Temporal namespace; must be the one this gateway serves",
                        "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("CaseIdLines")}}},
        "responses": _with_protocol_errors({
            "200": _json(_ref("CaseIdSuffixes"), "each line's case-id suffix, in order"),
            "400": _json(_ref("ErrorBody"), "`invalid_body`: not `{\"lines\": [...]}`, too many lines, or a line "
                                            "that is not JSON (never quoted back)"),
            "401": _json(_ref("ErrorBody"), "`unauthorized`: no valid bearer token"),
            "403": _json(_ref("ErrorBody"), "`may_not_enter`: the token is not a named operator's who enters cases; "
                                            "`origin_not_allowed`, `namespace_not_allowed` as for `/codec/encode`"),
            "408": _json(_ref("ErrorBody"), "the body did not arrive within `gateway.read_timeout_seconds`"),
            "413": _json(_ref("ErrorBody"), "body larger than about 2 MiB (or `gateway.codec_max_body_bytes`, if "
                                            "smaller): the CLI sends at most 500 lines and 2 MiB a request"),
            "415": _json(_ref("ErrorBody"), "content type is not `application/json`"),
            "503": _json(_ref("ErrorBody"), "`record_unavailable` or `busy`: operators cannot be checked now",
                         _RETRY_AFTER)}),
        "security": [{"codecToken": []}],
    }}


def openapi_document(base_url: str) -> dict[str, Any]:
    """The whole document, for a gateway reachable at `base_url`."""
    health = _ref("Health")
    return {
        "openapi": "3.1.0",
        "info": {"title": "sinergi gateway", "version": __version__,
                 "description": ("Agency systems send case events; the Temporal UI decodes payloads. Every error, "
                                 "including what is refused before a request reaches a handler (malformed "
                                 "HTTP, a header over 8190 bytes, headers too slow), is a JSON `ErrorBody` "
                                 "that never quotes the request back. Responses carry `Server: sinergi`.")},
        "servers": [{"url": base_url}],
        "paths": {
            "/v1/agencies/{office}/events": _event_endpoint(),
            "/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "this document",
                                         "responses": _with_protocol_errors(
                                             {"200": _json({"type": "object"}, "OpenAPI 3.1 document")})}},
            "/healthz": {"get": {"operationId": "healthz", "summary": "liveness: the process is up (nothing else "
                                                                     "is checked)",
                                 "responses": _with_protocol_errors({"200": _json(health, "up")})}},
            "/readyz": {"get": {
                "operationId": "readyz",
                "summary": "readiness: configuration loaded, Temporal reachable, and a worker polling every task "
                           "queue an event needs",
                "description": ("Checks the case task queue (workflow and activity tasks) and, where agency calls "
                                "run on queues of their own (`[temporal] agency_rate_limit`), each agency kind's "
                                "queue (activity tasks), from the server's task-queue descriptions: a worker "
                                "counts when it polled within the last two minutes. The server's answer is "
                                f"reused for {READY_CACHE_SECONDS:g} s."),
                "responses": _with_protocol_errors({
                    "200": _json(health, "ready: `status` `ready`, every check true"),
                    "503": _json(health, "not ready: `status` `unavailable`, `checks` says which check failed "
                                         "and `no_worker` names each task queue (and task type) no worker "
                                         "polls", _RETRY_AFTER)})}},
            "/codec/encode": _codec_endpoint("encode"),
            "/codec/decode": _codec_endpoint("decode"),
            "/codec/case-ids": _case_ids_endpoint(),
        },
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "standardWebhooks": {"type": "apiKey", "in": "header", "name": "webhook-signature",
                                     "description": "Standard Webhooks signature with the office's inbound secret"},
                "codecToken": {"type": "http", "scheme": "bearer",
                               "description": "the token in the env var named by `gateway.codec_token_env`"},
                "devUiSession": {"type": "apiKey", "in": "cookie", "name": devlogin.COOKIE,
                                 "description": "`sinergi dev` only: the session its printed UI link sets; "
                                                "accepted from an allowed UI origin on loopback"},
            },
        },
    }


async def serve_openapi(request: web.Request) -> web.Response:
    return web.json_response(request.config_dict[OPENAPI])
