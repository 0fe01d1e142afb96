"""Structured logs for every sinergi process: JSON lines (or console for people), personal data redacted.

Temporal code logs through `workflow.logger` / `activity.logger` (no duplicates on replay); those
records go through stdlib logging and are rendered here by structlog's ProcessorFormatter, so every line
has the same shape and passes the same redaction.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog
from opentelemetry import trace

# Keys whose values are personal data whatever they hold (DOMAIN §6; UU 21/2007 Art. 44).
PERSONAL_KEYS = frozenset({
    "full_name", "name", "person", "phone", "email", "address", "date_of_birth", "dob", "birth_date",
    "home_regency", "identity_document", "intake", "data", "facility", "report_number",
})
REDACTED = "[redacted]"
_PATTERNS = (
    re.compile(r"(?<![\w-])(?:\+|00)\d{1,3}[ ()-]*\d[\d ()-]{5,}\d"),  # international phone numbers
    re.compile(r"(?<![\w-])08\d[\d -]{6,12}\d"),  # Indonesian mobile numbers
    re.compile(r"\b(19|20)\d{2}-\d{2}-\d{2}\b(?!T)"),  # bare dates (dates of birth); timestamps keep their T
    re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),  # e-mail addresses
    re.compile(r"\b(?:jalan|jln?|gang|gg|komplek|perumahan|desa|dusun)\.?\s[^,;\n]*"  # street addresses
               r"|\bRT\.?\s*\d+\s*/\s*RW\.?\s*\d+", re.IGNORECASE),
)
_extra_names: set[str] = set()


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        for pattern in _PATTERNS:
            value = pattern.sub(REDACTED, value)
        for name in _extra_names:
            if name and name in value:
                value = value.replace(name, REDACTED)
        return value
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() in PERSONAL_KEYS else redact_value(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def redact(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: drop personal data by field name and by value pattern."""
    return {k: (REDACTED if k.lower() in PERSONAL_KEYS else redact_value(v)) for k, v in event_dict.items()}


def remember_names(*names: str | None) -> None:
    """Names seen in this process (e.g. from an intake being opened) are redacted from every later line."""
    _extra_names.update(n for n in names if n and len(n) >= 3)


def _temporal_context(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    record = event_dict.get("_record")
    for attr, prefix in (("temporal_workflow", "workflow"), ("temporal_activity", "activity")):
        info = getattr(record, attr, None) if record is not None else None
        if isinstance(info, dict):
            workflow_id = info.get("workflow_id")
            event_dict.setdefault("workflow_id", workflow_id)
            if workflow_id and workflow_id.startswith("case-"):
                event_dict.setdefault("case_id", workflow_id.removeprefix("case-"))
            if prefix == "activity":
                event_dict.setdefault("activity_type", info.get("activity_type"))
    return event_dict


def _trace_context(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


def configure(level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    """Configure structlog and stdlib logging for this process (call once, at start)."""
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _temporal_context,
        _trace_context,
        redact,
    ]
    renderer = structlog.dev.ConsoleRenderer(colors=False) if fmt == "console" else structlog.processors.JSONRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Temporal's SDK logs a line per poll failure; warnings are enough.
    logging.getLogger("temporalio").setLevel(max(logging.WARNING, root.level))
