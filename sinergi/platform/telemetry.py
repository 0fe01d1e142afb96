"""OpenTelemetry for every sinergi process: one trace per case action, never a victim's identity.

A trace starts at the CLI command (`sinergi case open`) or at the gateway's request, runs through the
Temporal client call, the workflow and its activities (`temporalio.contrib.opentelemetry`, registered on
the client only: workers inherit it) and into each agency's HTTP request, whose W3C `traceparent` the
agency may hand back with its answer. The gateway's span for that answer *links* to it: the answer is the
agency's own request, and the work it causes is a new case action with a trace of its own.

How the trace crosses each of those boundaries is `sinergi.platform.tracing`'s; this module is the process's side.
`setup` installs one tracer provider per process (service `sinergi-cli`, `-worker`, `-gateway`, `-sandbox`,
`-dev`). Spans are exported over OTLP (HTTP/protobuf) only when `[telemetry] otlp_endpoint` or
`OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise they only give log lines their trace and span ids. Every
exporter sits behind `PersonalDataFilter`, the safety net that drops personal attributes. `build_runtime`
gives a worker its Temporal runtime: metrics on a Prometheus endpoint, the core's log lines forwarded.

The OpenTelemetry SDK is imported where a provider is built: a CLI call whose spans go nowhere builds none
(`setup_if_exporting`) and runs its command span on the API's no-op tracer (bench/RESULTS.md §11).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from sinergi import __version__
from sinergi.platform.config import ConfigError, Settings
from sinergi.platform.logs import PERSONAL_KEYS, redact_value

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from sinergi.platform.span_filter import PersonalDataFilter, filtered  # noqa: F401 - re-exported

# Service names, one per process (`sinergi dev` runs worker, gateway and sandbox in one process).
CLI, WORKER, GATEWAY = "sinergi-cli", "sinergi-worker", "sinergi-gateway"
SANDBOX, DEV = "sinergi-sandbox", "sinergi-dev"
TRACER = "sinergi"

# Span attributes of our own, namespaced as OpenTelemetry's conventions ask. Ids and codes only.
CASE_ID = "sinergi.case.id"
CASE_STAGE = "sinergi.case.stage"
OFFICE_ID = "sinergi.office.id"
EVENT_TYPE = "sinergi.event.type"
EVENT_ID = "sinergi.event.id"
REFERRAL_ID = "sinergi.referral.id"
SERVICE = "sinergi.referral.service"
NOTICE_PURPOSE = "sinergi.notice.purpose"
RULE_ID = "sinergi.rule.id"

_provider: TracerProvider | None = None


def otlp_endpoint(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """Where spans go: `[telemetry] otlp_endpoint` (`/v1/traces` added), else the standard OTel variables."""
    env = os.environ if environ is None else environ
    configured = settings.telemetry.otlp_endpoint
    if configured:
        url = configured.rstrip("/")
        return url if url.endswith("/v1/traces") else f"{url}/v1/traces"
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return env["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/") + "/v1/traces"
    return None


def setup(settings: Settings, service: str, environ: Mapping[str, str] | None = None) -> TracerProvider:
    """The process's tracer provider, installed on first call; later calls (another component of the same
    process, e.g. under `sinergi dev`) get the same one."""
    global _provider
    if _provider is not None:
        return _provider
    current = _host_provider()
    if current is not None:  # installed by the host (a test, an embedding application)
        _provider = current
        _mark_exporting()
        return current
    provider = build_provider(settings, service, environ)
    trace.set_tracer_provider(provider)
    _provider = provider
    return provider


def setup_if_exporting(settings: Settings, service: str, environ: Mapping[str, str] | None = None) -> None:
    """`setup`, when this process's spans would go somewhere: an OTLP endpoint, or a provider set up already
    (by the host, or by `setup` itself). Otherwise nothing (a CLI call: no SDK imported, no provider built); its
    spans are the API's no-op ones, and its log lines carry no trace id — no one could look the trace up."""
    if _provider is not None or otlp_endpoint(settings, environ) or _host_provider() is not None:
        setup(settings, service, environ)


def _host_provider() -> TracerProvider | None:
    """The SDK's tracer provider a host installed, if any: without the SDK imported, there can be none."""
    if "opentelemetry.sdk.trace" not in sys.modules:
        return None
    from opentelemetry.sdk.trace import TracerProvider

    current = trace.get_tracer_provider()
    return current if isinstance(current, TracerProvider) else None


def build_provider(settings: Settings, service: str, environ: Mapping[str, str] | None = None) -> TracerProvider:
    """A tracer provider for `service`, exporting over OTLP only when an endpoint is configured."""
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import TracerProvider

    env = os.environ if environ is None else environ
    # OTEL_SERVICE_NAME, when set, has the last word, as everywhere in OpenTelemetry.
    attributes = {SERVICE_VERSION: __version__}
    if not env.get("OTEL_SERVICE_NAME"):
        attributes[SERVICE_NAME] = service
    provider = TracerProvider(resource=Resource.create(attributes))
    endpoint = otlp_endpoint(settings, env)
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        _mark_exporting()

        add_exporter(OTLPSpanExporter(endpoint=endpoint), provider=provider)
    return provider


_exporting = False


def _mark_exporting() -> None:
    global _exporting  # noqa: PLW0603 - one process, one tracer provider
    _exporting = True


def exporting() -> bool:
    """Whether this process's spans go anywhere (an OTLP endpoint, an exporter added, a host's provider): a CLI
    call whose spans go nowhere skips the tracing interceptor (bench/RESULTS.md §11)."""
    return _exporting


def add_exporter(exporter: SpanExporter, *, batch: bool = True, provider: TracerProvider | None = None) -> None:
    """Export the process's spans to `exporter` too, through the personal-data filter."""
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    from sinergi.platform.span_filter import PersonalDataFilter

    _mark_exporting()
    target = provider or _provider
    if target is None:
        raise RuntimeError("telemetry.setup() first")
    target.add_span_processor(PersonalDataFilter(BatchSpanProcessor(exporter) if batch
                                                 else SimpleSpanProcessor(exporter)))


def flush(timeout_millis: int = 5000) -> None:
    """Send what is buffered now: the CLI ends with `os._exit`, which runs no exit hooks."""
    if _provider is not None:
        _provider.force_flush(timeout_millis)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER, __version__)


# --- the safety net ---------------------------------------------------------------------------------

# Conventional keys whose last part looks personal but is not ("server.address" is a host).
_CONVENTIONAL = ("server.", "client.", "network.", "url.", "http.", "rpc.", "error.", "exception.", "otel.", "process.",
                 "code.")
# Identifiers sinergi makes itself: never free text, and a value pattern must not mangle them.
_IDENTIFIERS = frozenset({"temporalWorkflowID", "temporalRunID", "temporalActivityID", "temporalUpdateID", CASE_ID,
                          REFERRAL_ID})


def _personal(key: str) -> bool:
    if key.startswith(_CONVENTIONAL):
        return False
    return key.lower() in PERSONAL_KEYS or key.rsplit(".", 1)[-1].lower() in PERSONAL_KEYS


def clean_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Attributes without personal keys, and values without personal data by pattern (sinergi.platform.logs)."""
    out: dict[str, Any] = {}
    for key, value in (attributes or {}).items():
        if _personal(key):
            continue
        if key in _IDENTIFIERS:
            out[key] = value
        elif isinstance(value, str):
            out[key] = redact_value(value)
        elif isinstance(value, Sequence) and not isinstance(value, bytes):
            out[key] = tuple(redact_value(v) if isinstance(v, str) else v for v in value)
        else:
            out[key] = value
    return out


def __getattr__(name: str) -> Any:
    """`PersonalDataFilter` and `filtered` live in `sinergi.platform.span_filter` (it imports the SDK)."""
    if name in ("PersonalDataFilter", "filtered"):
        from sinergi.platform import span_filter

        return getattr(span_filter, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- spans of our own ------------------------------------------------------------------------------


def annotate(**attributes: Any) -> None:
    """Add `sinergi.*` attributes (ids and codes: case_id, office_id, ...) to the current span."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({f"sinergi.{k.replace('_', '.', 1)}": v for k, v in attributes.items() if v is not None})


@contextmanager
def command_span(command_path: str) -> Iterator[trace.Span]:
    """The root span of one CLI command, named as typed: "sinergi case open" (arguments never: a file
    name can be a person's name)."""
    with tracer().start_as_current_span(command_path, kind=SpanKind.CLIENT,
                                        attributes={"process.executable.name": "sinergi"}) as span:
        yield span


# --- the worker's Temporal runtime -------------------------------------------------------------------

_runtime: Any = None


def worker_runtime(settings: Settings):
    """The Temporal runtime of this worker process, built once (`build_runtime`)."""
    global _runtime
    if _runtime is None:
        _runtime = build_runtime(settings)
    return _runtime


def build_runtime(settings: Settings):
    """A Temporal runtime with the worker's metrics on a Prometheus endpoint (`[telemetry] metrics_address`,
    off when unset) and the Temporal core's own log lines forwarded to ours. One per process: each binds."""
    import logging

    from temporalio.runtime import (
        LogForwardingConfig,
        LoggingConfig,
        PrometheusConfig,
        Runtime,
        TelemetryConfig,
        TelemetryFilter,
    )

    address = settings.telemetry.metrics_address
    try:
        return Runtime(telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=address) if address else None,
            # Through stdlib logging, so the core's lines are JSON and redacted like every other line.
            logging=LoggingConfig(filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                                  forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")))))
    except ValueError as exc:  # the core's "Failed starting Prometheus exporter: Address already in use"
        raise ConfigError(f"telemetry.metrics_address: cannot serve metrics on {address}: {exc}; set another "
                          "(or SINERGI_TELEMETRY_METRICS_ADDRESS)") from exc
