"""The safety net under every span exporter (`sinergi.platform.telemetry.add_exporter`): what is exported never
holds a personal attribute. Its own module because it is made of the OpenTelemetry SDK, which a process imports
only when its spans go somewhere."""

from __future__ import annotations

from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor
from opentelemetry.trace import Link, Status

from sinergi.platform.logs import redact_value
from sinergi.platform.telemetry import clean_attributes


class PersonalDataFilter(SpanProcessor):
    """Wraps the exporting processor: what it exports never holds a personal attribute key, nor a phone
    number, date, e-mail, address or remembered name in a value, a span event or a status message.

    Spans are built without personal data in the first place; this is the net under that rule.
    """

    def __init__(self, inner: SpanProcessor) -> None:
        self.inner = inner

    def on_start(self, span, parent_context=None) -> None:
        self.inner.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        self.inner.on_end(filtered(span))

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def filtered(span: ReadableSpan) -> ReadableSpan:
    attributes = clean_attributes(span.attributes)
    events = [Event(e.name, clean_attributes(e.attributes), e.timestamp) for e in span.events]
    links = [Link(link.context, clean_attributes(link.attributes)) for link in span.links]
    status = span.status
    if status.description:
        status = Status(status.status_code, redact_value(status.description))
    if (attributes == dict(span.attributes or {}) and status is span.status
            and all(e.attributes == dict(o.attributes or {}) for e, o in zip(events, span.events, strict=True))
            and all(k.attributes == dict(o.attributes or {}) for k, o in zip(links, span.links, strict=True))):
        return span
    return ReadableSpan(name=span.name, context=span.context, parent=span.parent, resource=span.resource,
                        attributes=attributes, events=events, links=links, kind=span.kind, status=status,
                        start_time=span.start_time, end_time=span.end_time,
                        instrumentation_scope=span.instrumentation_scope)
