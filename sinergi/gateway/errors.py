"""The gateway's errors, their JSON bodies, and the one place HTTP statuses are mapped.

Handlers raise `ApiError`s (or let a `sinergi.cases.CaseError` through); the middleware here turns
them into `{"error", "message", "details"}` bodies. The tree::

    ApiError
    ├── BadRequest            400  malformed body, invalid event, webhook-id != event_id
    ├── Unauthorized          401  bad, missing or expired signature; unknown office; codec token
    ├── Forbidden             403  event type not allowed, office not part of the case, origin not allowed
    ├── NotFound              404  unknown case, unknown route
    ├── MethodNotAllowed      405
    ├── RequestTimeout        408  the body did not arrive in time
    ├── Conflict              409  refused by the case in its current state
    ├── PayloadTooLarge       413
    ├── UnsupportedMediaType  415
    └── Unavailable           503  Temporal unreachable or the case did not answer (with Retry-After)

Anything else is a bug: it is logged with its traceback and answered with a bare JSON 500.
"""

from __future__ import annotations

from typing import Any

import structlog
from aiohttp import web
from pydantic import BaseModel, Field

from sinergi.cases import CaseBusy, CaseError, CaseNotFound, EventRejected, NotAParty, ServiceUnavailable

log = structlog.get_logger("sinergi.gateway")

RETRY_AFTER_SECONDS = 5


class ErrorBody(BaseModel):
    """Every error reply of the gateway."""

    error: str = Field(description="stable machine-readable code, e.g. `invalid_event`")
    message: str = Field(description="what went wrong, for people")
    details: Any = Field(default=None, description="code-specific: bad fields, refusal reason and accepted types")


class FieldError(BaseModel):
    """One bad field of an invalid event (`details` of `invalid_event`)."""

    field: str = Field(description="dotted path in the envelope, e.g. `data.outcome`")
    message: str
    type: str = Field(description="pydantic's error type, e.g. `missing`, `literal_error`")


class Refusal(BaseModel):
    """`details` of `event_refused`: why the case refused the event and what it accepts now."""

    reason: str
    accepted: list[str]


class ApiError(Exception):
    """An error with its HTTP status, stable code and safe message (never secrets, never personal data)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).code
        self.details = details
        self.headers = dict(headers or {})


class BadRequest(ApiError):
    status, code = 400, "invalid_body"


class Unauthorized(ApiError):
    status, code = 401, "invalid_signature"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, code = 405, "method_not_allowed"


class RequestTimeout(ApiError):
    status, code = 408, "request_timeout"


class Conflict(ApiError):
    status, code = 409, "event_refused"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class Unavailable(ApiError):
    status, code = 503, "temporal_unavailable"

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))


# Statuses the gateway documents (OpenAPI) for the event endpoint, with what each means.
EVENT_STATUSES: dict[int, str] = {
    400: "malformed body (not UTF-8, not JSON, too deeply nested, not an object), invalid event (each bad field "
         "named) or `webhook-id` different from `event_id`",
    401: "bad, missing or expired signature (also for an office id that is not in the registry)",
    403: "this office may not send this event type, or is not part of this case",
    404: "unknown case",
    408: "the body did not arrive within the read timeout",
    409: "not accepted in the case's current state: the reason and the event types accepted now",
    413: "body larger than `gateway.max_body_bytes`",
    415: "content type is not `application/json` (UTF-8)",
    503: "Temporal unreachable, or the case did not answer in time: retry after `Retry-After` seconds",
}


def from_case_error(exc: CaseError) -> ApiError:
    """Translate a client-side case error (sinergi.cases) into its HTTP error."""
    if isinstance(exc, EventRejected):
        return Conflict(exc.reason, details=Refusal(reason=exc.reason, accepted=exc.accepted).model_dump())
    if isinstance(exc, CaseNotFound):
        return NotFound(str(exc), code="case_not_found")
    if isinstance(exc, NotAParty):
        return Forbidden(str(exc), code="not_a_party")
    # 503s are logged with what Temporal said, so an agency's 503 can be told apart afterwards.
    if isinstance(exc, CaseBusy):  # no answer in time (case or server busy), or every task refused
        log.warning("case_unavailable", error=str(exc))
        return Unavailable("the case could not take the event now; retry later", code="case_unavailable")
    if isinstance(exc, ServiceUnavailable):
        log.warning("temporal_unavailable", error=str(exc))
        return Unavailable("Temporal is unreachable or too busy to answer; retry later")
    # Anything else Temporal said: the event was not applied, and a retry is safe (event ids dedupe).
    log.error("case_error", error=str(exc))
    return Unavailable("the case could not be reached; retry later", code="case_unavailable")


def error_response(err: ApiError) -> web.Response:
    body = ErrorBody(error=err.code, message=err.message, details=err.details)
    return web.json_response(body.model_dump(mode="json"), status=err.status, headers=err.headers)


_HTTP_CODES = {404: NotFound, 405: MethodNotAllowed, 413: PayloadTooLarge}


@web.middleware
async def json_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error as a JSON body; unexpected exceptions logged and answered 500 without details."""
    try:
        return await handler(request)
    except ApiError as err:
        return error_response(err)
    except CaseError as exc:
        return error_response(from_case_error(exc))
    except web.HTTPException as exc:
        # aiohttp's own refusals (no such route, wrong method, body over client_max_size).
        if exc.status < 400:
            raise
        translated = _HTTP_CODES.get(exc.status, ApiError)(exc.reason or "request refused")
        translated.status = exc.status
        if exc.status == 405:
            translated.headers["Allow"] = exc.headers.get("Allow", "")
        return error_response(translated)
    except Exception as exc:
        log.exception("gateway_bug", method=request.method, path=request.path, exc_type=type(exc).__qualname__)
        return web.json_response(ErrorBody(error="internal_error", message="internal error").model_dump(),
                                 status=500)
