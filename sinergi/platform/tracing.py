"""How a trace crosses sinergi's boundaries: Temporal calls, agency HTTP requests and the answers that come back.

Temporal: `temporalio.contrib.opentelemetry`'s TracingInterceptor, one trace per case action.

Why the interceptor and not the newer OpenTelemetryPlugin: a case workflow runs for months, and the plugin's
workflow spans are only exported when they end; the interceptor's are exported at once (with no duration).

Why a subclass: the stock interceptor puts every update handler under the workflow's *start* context, so
each event an agency or an operator enters — and the referrals and notices it causes — would land in the
trace of `case open`, one trace growing for a year. Here an update runs in the context of the client
that sent it (the `sinergi case event` command, the gateway's request), linked to the case's trace: one
trace per case action. Work that outlives the handler (a delivery, a clock) keeps the context it was
started in, because workflow tasks copy their context when created.

HTTP: the worker's one session gives each agency request a client span and its `traceparent`
(`http_client_trace_configs`); the gateway's server span only *links* to a `traceparent` an agency sends
back (`server_middleware(link_only=True)`); the sandbox agencies continue the trace they received and
hand it back with their events (`continuing`, `inject_trace`).
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import Any

import opentelemetry.context
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from temporalio import workflow
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.worker import HandleUpdateInput, WorkflowInterceptorClassInput

from sinergi.platform.telemetry import CASE_ID, EVENT_ID, EVENT_TYPE, OFFICE_ID, tracer

_W3C = TraceContextTextMapPropagator()  # W3C trace context only: baggage from outside is not ours to carry


class CaseTracingInterceptor(TracingInterceptor):
    """Register on the client only (`sinergi.platform.temporal.connect` does): workers built on it inherit it."""

    def workflow_interceptor_class(
            self, input: WorkflowInterceptorClassInput) -> type[TracingWorkflowInboundInterceptor]:
        super().workflow_interceptor_class(input)  # registers the extern function that makes the spans
        return _CaseWorkflowInterceptor


class _CaseWorkflowInterceptor(TracingWorkflowInboundInterceptor):
    """One span per event a case receives: `HandleUpdate:apply_event` when it applies, or
    `ValidateUpdate:apply_event` with `error.type` when the case refuses it — never both (bench/RESULTS.md
    §3: two spans and two header decodes were ~0.3 ms of a loaded worker's Python per event). The caller's context is
    read from the update's header once: the validator hands it to the handler, which runs next in the
    same workflow task (on replay no validator runs, and the handler reads the header itself)."""

    def __init__(self, next: Any) -> None:
        super().__init__(next)
        self._callers: dict[str, opentelemetry.context.Context] = {}  # update id → its caller's context

    def _caller_context(self, input: HandleUpdateInput) -> opentelemetry.context.Context | None:
        header = input.headers.get(self.header_key)
        if not header:
            return None
        carrier = self.payload_converter.from_payloads([header])[0]
        return self._set_on_context(self.text_map_propagator.extract(carrier)) if carrier else None

    def _update_span(self, name: str, input: HandleUpdateInput, refused: str | None = None) -> None:
        event = getattr(input.args[0], "event", None) if input.args else None
        attributes = {CASE_ID: workflow.info().workflow_id.removeprefix("case-")}
        if event is not None:
            attributes.update({EVENT_TYPE: str(event.type), EVENT_ID: str(event.event_id)})
        if refused is not None:
            attributes["error.type"] = refused  # the refusal's kind (NotAParty, DuplicateEvent, ...), no text
        self._completed_span(name, link_context_carrier=self._load_workflow_context_carrier(),
                             additional_attributes=attributes, kind=SpanKind.SERVER)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        context = self._caller_context(input)
        if context is None:
            return super().handle_update_validator(input)
        try:
            self.next.handle_update_validator(input)
        except Exception as exc:
            token = opentelemetry.context.attach(context)
            try:
                self._update_span(f"ValidateUpdate:{input.update}", input,
                                  refused=getattr(exc, "type", None) or type(exc).__name__)
            finally:
                opentelemetry.context.detach(token)
            raise
        self._callers[input.id] = context

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        context = self._callers.pop(input.id) if input.id in self._callers else self._caller_context(input)
        if context is None:
            return await super().handle_update_handler(input)
        token = opentelemetry.context.attach(context)
        try:
            self._update_span(f"HandleUpdate:{input.update}", input)
            return await self.next.handle_update_handler(input)
        finally:
            opentelemetry.context.detach(token)


# --- HTTP: agencies and the gateway ----------------------------------------------------------------


def link_headers(carrier: Mapping[str, str]) -> dict[str, str]:
    """The W3C trace headers of a carrier (from a request), to hand on with the answer."""
    return {k: v for k in ("traceparent", "tracestate") if (v := carrier.get(k))}


def continuing(carrier: Mapping[str, str] | None) -> contextvars.Context:
    """A copy of the current context whose trace is the one in `carrier`: for a task (`create_task(...,
    context=)`) that answers a request later, as an agency answers a referral."""
    context = contextvars.copy_context()
    if carrier:
        context.run(opentelemetry.context.attach, _W3C.extract(link_headers(carrier)))
    return context


def inject_trace(headers: dict[str, str]) -> dict[str, str]:
    """Add the current trace's W3C headers to outgoing `headers` (in place; returned for convenience)."""
    _W3C.inject(headers)
    return headers


def status_from_http(span: trace.Span, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_attribute("error.type", str(status))
        span.set_status(StatusCode.ERROR)




def http_client_trace_configs() -> list[Any]:
    """For the worker's one aiohttp session: a client span per agency request, and its `traceparent`."""
    from opentelemetry.instrumentation._semconv import _StabilityMode
    from opentelemetry.instrumentation.aiohttp_client import create_trace_config

    # The stable HTTP conventions (http.request.method, url.full), not the pre-1.0 names.
    return [create_trace_config(sem_conv_opt_in_mode=_StabilityMode.HTTP)]


def server_middleware(*, link_only: bool, untraced: tuple[str, ...] = ("/healthz", "/readyz")):
    """aiohttp middleware: a SERVER span per request, named `POST /v1/agencies/{office}/events`.

    `link_only` (the gateway): an incoming `traceparent` is linked, never the parent — an agency's answer
    starts a case action of its own. Otherwise (the sandbox agencies) the request continues the caller's trace.
    """
    from aiohttp import web
    from opentelemetry.context import Context

    @web.middleware
    async def traced(request: web.Request, handler):
        if request.path in untraced:
            return await handler(request)
        incoming = _W3C.extract(link_headers(request.headers))
        linked = trace.get_current_span(incoming).get_span_context()
        resource = request.match_info.route.resource
        attributes = {"http.request.method": request.method, "url.scheme": request.scheme}
        name = request.method  # no route matched: the method alone, as the conventions say (never the raw path)
        if resource is not None:
            # A referral page's path holds its link's token (half of what opens a victim's data): the route
            # template stands in for it.
            path = resource.canonical if "token" in request.match_info else request.path
            attributes.update({"http.route": resource.canonical, "url.path": path})
            name = f"{request.method} {resource.canonical}"
        if office := request.match_info.get("office"):
            attributes[OFFICE_ID] = office
        with tracer().start_as_current_span(
                name, kind=SpanKind.SERVER, attributes=attributes,
                context=Context() if link_only else incoming,
                links=[Link(linked)] if link_only and linked.is_valid else None) as span:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                status_from_http(span, exc.status)
                raise
            status_from_http(span, response.status)
            return response

    return traced
