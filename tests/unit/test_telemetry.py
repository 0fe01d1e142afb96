"""Telemetry without a server: where spans go, the personal-data net under them, and log lines from Temporal's
own loggers rendered and redacted like ours."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from sinergi.platform import logs, telemetry
from sinergi.platform.config import ConfigError, Settings, TelemetrySettings
from sinergi.testing.logcapture import captured_log_lines

PHONE, DOB, NAME = "+62 812 5550 1234", "2001-03-14", "Siti Rahmawati Contoh"


def _settings(endpoint: str | None = None) -> Settings:
    return Settings(telemetry=TelemetrySettings(otlp_endpoint=endpoint))


def test_spans_are_exported_only_when_an_otlp_endpoint_is_configured() -> None:
    assert telemetry.otlp_endpoint(_settings(), environ={}) is None
    assert telemetry.otlp_endpoint(_settings("http://collector:4318"), environ={}) == "http://collector:4318/v1/traces"
    assert telemetry.otlp_endpoint(_settings(), {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/"}) == \
        "http://c:4318/v1/traces"
    quiet = telemetry.build_provider(_settings(), telemetry.WORKER, environ={})
    assert quiet._active_span_processor._span_processors == ()
    assert quiet.resource.attributes["service.name"] == "sinergi-worker"
    exporting = telemetry.build_provider(_settings("http://collector:4318"), telemetry.GATEWAY, environ={})
    (net,) = exporting._active_span_processor._span_processors
    assert isinstance(net, telemetry.PersonalDataFilter)
    assert net.inner.span_exporter._endpoint == "http://collector:4318/v1/traces"
    exporting.shutdown()


def test_the_personal_data_filter_drops_personal_keys_and_values_but_keeps_ids_and_conventions() -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(telemetry.PersonalDataFilter(SimpleSpanProcessor(exported)))
    with provider.get_tracer("t").start_as_current_span("deliver", attributes={
            "sinergi.case.id": "KALSEL-2026-0812345678", "person.full_name": NAME, "phone": PHONE,
            "note": f"call {PHONE} about the one born {DOB}", "server.address": "127.0.0.1",
            "process.executable.name": "sinergi", "http.response.status_code": 202}) as span:
        span.add_event("exception", {"exception.message": f"agency refused: DOB {DOB}"})
        span.set_status(StatusCode.ERROR, f"no answer for {PHONE}")
    (out,) = exported.get_finished_spans()
    assert dict(out.attributes) == {"sinergi.case.id": "KALSEL-2026-0812345678", "note": "call [redacted] about the "
                                    "one born [redacted]", "server.address": "127.0.0.1",
                                    "process.executable.name": "sinergi", "http.response.status_code": 202}
    assert out.events[0].attributes["exception.message"] == "agency refused: DOB [redacted]"
    assert out.status.description == "no answer for [redacted]"
    assert out.context == span.get_span_context()



def test_temporal_log_records_are_json_with_their_ids_and_redacted_by_value() -> None:
    logs.remember_names(NAME)
    with captured_log_lines("INFO") as buffer:
        extra = {"temporal_activity": {"workflow_id": "case-KALSEL-2026-7Q2M9XKD", "activity_id": "3",
                                       "activity_type": "deliver_referral", "namespace": "default", "attempt": 2}}
        try:
            raise RuntimeError(f"agency said: {NAME}, {PHONE}, born {DOB}, Jalan Kenanga 7")
        except RuntimeError:
            logging.getLogger("temporalio.activity").warning("Completing activity as failed", exc_info=True,
                                                             extra=extra)
        logging.getLogger("temporalio.workflow").info("referral_sent", extra={
            "temporal_workflow": {"workflow_id": "case-KALSEL-2026-7Q2M9XKD", "run_id": "r1",
                                  "workflow_type": "CaseWorkflow", "task_queue": "sinergi"},
            "office": "kbri_kuala_lumpur"})
    activity_line, workflow_line = (json.loads(line) for line in buffer.getvalue().splitlines())
    assert activity_line["case_id"] == "KALSEL-2026-7Q2M9XKD"
    assert activity_line["activity_type"] == "deliver_referral" and "temporal_activity" not in activity_line
    for secret in (NAME, PHONE, DOB, "Kenanga"):
        assert secret not in buffer.getvalue()
    assert "RuntimeError: agency said: [redacted]" in activity_line["exception"]
    assert workflow_line["office"] == "kbri_kuala_lumpur" and workflow_line["run_id"] == "r1"
    assert "task_queue" not in workflow_line


def test_remembered_names_are_bounded(monkeypatch) -> None:
    monkeypatch.setattr(logs, "_memory", logs.NameMemory(logs.MAX_REMEMBERED))
    logs.remember_names(*(f"Person Number {i}" for i in range(logs.MAX_REMEMBERED + 5)))
    assert len(logs._memory) == logs.MAX_REMEMBERED
    assert logs.redact_value(f"Person Number {logs.MAX_REMEMBERED + 4} called") == "[redacted] called"
    assert logs.redact_value("Person Number 0 called") == "Person Number 0 called"  # the oldest, forgotten
    logs.remember_names("Person Number 5")  # remembered again: now the newest, so it outlives 6 and 7
    logs.remember_names("Someone Else", "Another One")
    assert logs.redact_value("Person Number 5, Person Number 6, Person Number 7") == \
        "[redacted], Person Number 6, Person Number 7"


def test_a_name_is_redacted_whatever_its_case_or_spacing_and_the_longest_remembered_form_goes_whole(
        monkeypatch) -> None:
    monkeypatch.setattr(logs, "_memory", logs.NameMemory(10))
    logs.remember_person("Siti Rahmawati Contoh")
    assert logs.redact_value("SITI  rahmawati\ncontoh called") == "[redacted] called"
    assert logs.redact_value("ask Rahmawati's sister") == "ask [redacted]'s sister"
    assert logs.redact_value("Situ Rahmawatix") == "Situ Rahmawatix"
    assert logs.redact_value("the line ends with Siti") == "the line ends with [redacted]"  # a part, at the end


def test_remembering_thousands_of_names_costs_little_memory(monkeypatch) -> None:
    """A worker sees a new name with every intake; the old matcher rebuilt a regex per name and `re` kept
    512 of them (~78 MB after 1,500 intakes)."""
    import tracemalloc

    monkeypatch.setattr(logs, "_memory", logs.NameMemory(logs.MAX_REMEMBERED))
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(3000):
            logs.remember_person(f"Nama Orang{i} Contoh{i}", f"+62 812 {i:04d} 0000")
            logs.redact_value(f"referral sent for case {i}")
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(logs._memory) == logs.MAX_REMEMBERED
    assert grown < 4_000_000, f"{grown / 1e6:.1f} MB for {logs.MAX_REMEMBERED} remembered names"


def test_a_remembered_person_is_redacted_whole_and_by_each_part_of_the_name_but_never_inside_words() -> None:
    logs.remember_person("Ina Wulandari", "Jl. Kenanga 7")
    assert logs.redact_value("Wulandari (Ina) at home, Dinas Sosial says") == \
        "[redacted] (Ina) at home, Dinas Sosial says"


def test_a_metrics_address_in_use_is_a_configuration_error_naming_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(ConfigError, match=f"telemetry.metrics_address: cannot serve metrics on {address}"):
            telemetry.build_runtime(Settings(telemetry=TelemetrySettings(metrics_address=address)))


# A CLI call configures its logs when it logs its first line (`logs.configure_on_first_line`): until then no
# structlog is imported; from then on every line reads as after `logs.configure`. In a fresh interpreter each,
# so the root logger, structlog's configuration and what is imported are the process's own.
_LINES = """
import logging, sys
from sinergi.platform import logs
logs.remember_names({name!r})
logging.getLogger("sinergi.quiet").info("below the level: logs nothing, configures nothing")
print("structlog" in sys.modules, file=sys.stdout, flush=True)
try:
    raise RuntimeError("agency said: {name}, {phone}")
except RuntimeError:
    logging.getLogger("temporalio.client").warning("Failed %s", "rpc", exc_info=True)
logs.get_logger("sinergi.cases").error("case_stuck", case_id="KALSEL-2026-7Q2M9XKD", person={name!r}, cause="{phone}")
logging.getLogger("temporalio.workflow").warning("late", extra={{"temporal_workflow": {{"workflow_id": "case-K1"}}}})
logs.get_logger("sinergi.cases").info("below the level")
"""


def _log_lines(setup: str, fmt: str) -> tuple[str, list[str]]:
    import re
    import subprocess
    import sys

    code = f"from sinergi.platform import logs\n{setup}('WARNING', {fmt!r})\n"
    code += _LINES.format(name=NAME, phone=PHONE)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # Each line's own time aside.
    stamp = re.compile(r'\d{4}-\d\d-\d\dT[\d:.]+Z')
    return done.stdout.strip(), [stamp.sub("T", line) for line in done.stderr.splitlines()]


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_logs_configured_on_the_first_line_read_as_logs_configured_at_start(fmt: str) -> None:
    eager_structlog, eager = _log_lines("logs.configure", fmt)
    lazy_structlog, lazy = _log_lines("logs.configure_on_first_line", fmt)
    assert (eager_structlog, lazy_structlog) == ("True", "False")
    assert lazy == eager and len([line for line in eager if "case_stuck" in line or "Failed rpc" in line]) == 2
    for secret in (NAME, PHONE, "Rahmawati"):
        assert secret not in "\n".join(lazy)
    if fmt == "json":
        assert [json.loads(line)["event"] for line in lazy if line.startswith("{")] == ["Failed rpc", "case_stuck",
                                                                                        "late"]
        assert json.loads(lazy[-1])["case_id"] == "K1"


def test_a_host_that_configured_its_logs_since_keeps_them() -> None:
    # The pending configuration is dropped once the host configures logging itself (a test's capture).
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure_on_first_line("WARNING", "json")
        root.handlers[:] = [handler := logging.NullHandler()]
        logs.configure_pending()
        assert root.handlers == [handler]
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
        logs._pending = None


def test_a_cli_call_whose_spans_go_nowhere_builds_no_provider_and_imports_no_sdk() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom sinergi.platform import telemetry\nfrom sinergi.platform.config import Settings, "
            "TelemetrySettings\n"
            "telemetry.setup_if_exporting(Settings(), telemetry.CLI, environ={})\n"
            "with telemetry.command_span('sinergi case status') as span:\n    recording = span.is_recording()\n"
            "print(recording, telemetry.exporting(), 'opentelemetry.sdk.trace' in sys.modules)\n"
            "telemetry.setup_if_exporting(Settings(telemetry=TelemetrySettings(otlp_endpoint='http://collector:4318')),"
            " telemetry.CLI, environ={})\n"
            "with telemetry.command_span('sinergi case status') as span:\n    recording = span.is_recording()\n"
            "print(recording, telemetry.exporting(), type(telemetry.PersonalDataFilter).__name__, flush=True)\n"
            "import os\nos._exit(0)  # as the CLI leaves: the span is not sent to the made-up collector\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["False False False", "True True type"]
