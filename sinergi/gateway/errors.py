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
    └── Unavailable           503  Temporal unreachable or the case did not answer (with Retry-After);
                                   `details` a `RetryAdvice`: may the event still be applied?

Anything else is a bug: it is logged with its traceback and answered with a bare JSON 500. What aiohttp
refuses itself, before any handler or middleware runs (a malformed request line, a header over 8190
bytes, headers that do not arrive in time), is answered by `protocol_error` in the same JSON shape.
"""

from __future__ import annotations

from typing import Any, Literal

import structlog
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage, BadStatusLine, InvalidHeader, LineTooLong
from pydantic import BaseModel, Field
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from sinergi.cases import (
    CaseBusy,
    CaseError,
    CaseNotFound,
    CaseStuck,
    EventIdReused,
    EventRefused,
    NotAllowed,
    NotAParty,
    ServiceUnavailable,
)

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


class RetryAdvice(BaseModel):
    """`details` of the event endpoint's 503: whether the event may still be applied, and how to retry."""

    may_still_apply: bool = Field(description=(
        "true: the event reached the case and may still be applied after this answer (a retry with the same "
        "`event_id` then answers 200 `duplicate`); false: it was certainly not applied"))
    retry: Literal["same_event_id"] = Field(default="same_event_id", description=(
        "either way, retry after `Retry-After` seconds with the same `event_id` and body: it is applied once"))


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
    403: "`not_allowed`: this office may not send this event type (outside its agreement, a referral sent to "
         "another office, or a case-level decision reserved to the case's lead office); `not_a_party`: this "
         "office is not part of this case (the case sent it no referral or notice and it does not lead it)",
    404: "unknown case",
    408: "the body did not arrive within the read timeout",
    409: "`event_refused`: not accepted in the case's current state: the reason and the event types accepted "
         "now; `event_id_reused`: the same `event_id` from this office with different content",
    413: "body larger than `gateway.max_body_bytes`",
    415: "content type is not `application/json` (UTF-8)",
    503: "Temporal unreachable (`temporal_unavailable`), the case did not answer in time (`case_unavailable`), or "
         "the case cannot make progress until its engineers fix it (`case_stuck`: its workflow task keeps "
         "failing): retry after `Retry-After` seconds with the "
         "same `event_id`; `details.may_still_apply` says whether the event may yet be applied (a retry is then "
         "a 200 duplicate) or certainly was not",
}

# What aiohttp answers itself, before any handler: documented for every operation.
PROTOCOL_STATUSES: dict[int, str] = {
    400: "malformed HTTP (`malformed_request`: bad request line or header) or a request line or header over "
         "8190 bytes (`header_too_large`); nothing of the request is quoted back",
    408: "`header_timeout`: the request line and headers did not arrive within `gateway.header_timeout_seconds`",
}


# gRPC statuses that say the server answered and refused the call: nothing of it was applied. Any other
# failure of a call already sent (deadline, lost connection, an internal error) leaves its fate unknown.
_REFUSED = frozenset({
    RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.INVALID_ARGUMENT, RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNAUTHENTICATED,
    RPCStatusCode.ALREADY_EXISTS, RPCStatusCode.OUT_OF_RANGE, RPCStatusCode.UNIMPLEMENTED,
})


def may_still_apply(exc: CaseError) -> bool:
    """Whether an event answered 503 because of `exc` may yet be applied (True) or certainly was not.

    Only a certainty is answered False: the agency may then change its mind, while "may still apply"
    is always safe to say (the same event id again is applied once). An error that declares
    `may_still_apply` itself is taken at its word; otherwise its cause decides (sinergi.cases chains
    each error to what Temporal raised):

    - the update call ended without an answer (`WorkflowUpdateRPCTimeoutOrCancelledError`: its deadline,
      the case or server too busy) — the server holds the update and may deliver it: True;
    - the server answered and refused (`_REFUSED`: an update aborted with its refused workflow task,
      `CaseBusy` from `cases._could_not_take`; no running case to take it): False;
    - the case answered and failed the update (`WorkflowUpdateFailedError`): False;
    - anything else, or no cause at all: True.
    """
    declared = getattr(exc, "may_still_apply", None)
    if isinstance(declared, bool):
        return declared
    cause = exc.__cause__
    if isinstance(cause, RPCError):
        return cause.status not in _REFUSED
    # A failed update (the case answered), or no answer (WorkflowUpdateRPCTimeoutOrCancelledError) or
    # anything we cannot vouch for: only the first is certain.
    return not isinstance(cause, WorkflowUpdateFailedError)


def _retry(exc: CaseError) -> dict[str, Any]:
    return RetryAdvice(may_still_apply=may_still_apply(exc)).model_dump()


def from_case_error(exc: CaseError) -> ApiError:
    """Translate a client-side case error (sinergi.cases) into its HTTP error."""
    if isinstance(exc, EventRefused):
        return Conflict(exc.reason, details=Refusal(reason=exc.reason, accepted=exc.accepted).model_dump())
    if isinstance(exc, CaseNotFound):
        return NotFound(str(exc), code="case_not_found")
    if isinstance(exc, NotAParty):
        return Forbidden(str(exc), code="not_a_party")
    if isinstance(exc, NotAllowed):
        return Forbidden(str(exc), code="not_allowed")
    if isinstance(exc, EventIdReused):
        return Conflict(str(exc), code="event_id_reused")
    # 503s are logged with what Temporal said, so an agency's 503 can be told apart afterwards; each tells
    # the agency whether its event may still be applied (`may_still_apply`).
    if isinstance(exc, CaseStuck):  # every workflow task fails: retrying helps only once it is fixed
        log.error("case_stuck", error=str(exc), may_still_apply=may_still_apply(exc))
        return Unavailable("the case cannot make progress now (its engineers are told); retry later with the "
                           "same event_id", code="case_stuck", details=_retry(exc))
    if isinstance(exc, CaseBusy):  # no answer in time (case or server busy), or every task refused
        log.warning("case_unavailable", error=str(exc), may_still_apply=may_still_apply(exc))
        return Unavailable("the case could not take the event now; retry later", code="case_unavailable",
                           details=_retry(exc))
    if isinstance(exc, ServiceUnavailable):
        log.warning("temporal_unavailable", error=str(exc), may_still_apply=may_still_apply(exc))
        return Unavailable("Temporal is unreachable or too busy to answer; retry later", details=_retry(exc))
    # Anything else Temporal said: a retry is safe (event ids dedupe); the cause says if it may yet apply.
    log.error("case_error", error=str(exc), may_still_apply=may_still_apply(exc))
    return Unavailable("the case could not be reached; retry later", code="case_unavailable",
                       details=_retry(exc))


def error_response(err: ApiError) -> web.Response:
    body = ErrorBody(error=err.code, message=err.message, details=err.details)
    return web.json_response(body.model_dump(mode="json"), status=err.status, headers=err.headers)


def protocol_error(status: int, exc: BaseException | None) -> ApiError:
    """What aiohttp refuses itself, before any handler: its status, our code and a fixed message.

    Never aiohttp's own message: it quotes the request's bytes ("Got more than 8190 bytes when
    reading: b'v1,AAAA…'"), which may be a signature, a token or personal data.
    """
    err: ApiError
    if status == 408:
        return RequestTimeout("the request line and headers did not arrive in time", code="header_timeout")
    if status >= 500:
        err = ApiError("internal error", code="internal_error")
    elif isinstance(exc, LineTooLong):
        err = BadRequest("a request line or header is longer than the limit of 8190 bytes",
                                   code="header_too_large")
    elif isinstance(exc, BadStatusLine):  # also BadHttpMethod
        err = BadRequest("malformed HTTP request line", code="malformed_request")
    elif isinstance(exc, InvalidHeader):
        err = BadRequest("malformed HTTP header", code="malformed_request")
    elif isinstance(exc, BadHttpMessage):
        err = BadRequest("malformed HTTP request", code="malformed_request")
    else:
        err = ApiError("the request could not be read", code="malformed_request")
    err.status = status
    return err


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
