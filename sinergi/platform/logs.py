"""Structured logs for every sinergi process: JSON lines (or console for people), personal data redacted.

Temporal code logs through `workflow.logger` / `activity.logger` (no duplicates on replay); those
records, the SDK's own and the Temporal core's (forwarded by `sinergi.platform.telemetry.build_runtime`) go
through stdlib logging and are rendered here by structlog's ProcessorFormatter, so every line has the
same shape — case id, workflow id, trace id and span id where known — and passes the same redaction.

structlog itself (~50 ms to import, with `rich` where it is installed) is imported by `configure`, not here: a
CLI call configures its logs only when its first line is logged (`configure_on_first_line`), and its modules
take their logger from `get_logger`, which configures what is pending before it logs (bench/RESULTS.md §11).
"""

from __future__ import annotations

import logging
import re
import sys
from collections import OrderedDict
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

if TYPE_CHECKING:
    import structlog

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
    re.compile(r"(?<!\d)\d{16}(?!\d)"),  # NIK, the 16-digit national identity number
)
# Names (and other identifying strings) seen in this process, newest last. Bounded: a worker runs for
# months, and a victim's name must not stay in its memory longer than the lines that might carry it.
MAX_REMEMBERED = 1000
_WORD = re.compile(r"\w+")


class NameMemory:
    """Identifying strings to redact wherever they appear, matched word by word, case-insensitively.

    A name is kept as its sequence of words; a value is split into words once, and at each word only the
    lengths of names starting with that word are tried. Nothing is compiled per name: an alternation
    regex rebuilt for each new name filled `re`'s own cache with 512 patterns of up to 1,000 names each
    (~78 MB in a worker after 1,500 intakes, bench/RESULTS.md "Memory").
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._names: OrderedDict[tuple[str, ...], None] = OrderedDict()
        self._counts: dict[str, dict[int, int]] = {}
        # Read by every log line, possibly from another thread: replaced whole, never changed in place.
        self._lengths: dict[str, tuple[int, ...]] = {}

    def __len__(self) -> int:
        return len(self._names)

    def remember(self, name: str) -> None:
        key = tuple(w.casefold() for w in _WORD.findall(name))
        if not key:
            return
        if key in self._names:
            self._names.move_to_end(key)
            return
        self._names[key] = None
        self._count(key, +1)
        while len(self._names) > self.limit:
            oldest, _ = self._names.popitem(last=False)
            self._count(oldest, -1)

    def _count(self, key: tuple[str, ...], step: int) -> None:
        counts = self._counts.setdefault(key[0], {})
        counts[len(key)] = counts.get(len(key), 0) + step
        if counts[len(key)] <= 0:
            del counts[len(key)]
        if counts:
            self._lengths[key[0]] = tuple(sorted(counts, reverse=True))  # longest first: a full name goes whole
        else:
            del self._counts[key[0]]
            self._lengths.pop(key[0], None)

    def redact(self, value: str) -> str:
        if not self._names:
            return value
        words = list(_WORD.finditer(value))
        folded = [w.group().casefold() for w in words]
        out: list[str] = []
        last = i = 0
        while i < len(words):
            found = next((n for n in self._lengths.get(folded[i], ())
                          if i + n <= len(folded) and tuple(folded[i:i + n]) in self._names), 0)
            if found:
                out += [value[last:words[i].start()], REDACTED]
                last = words[i + found - 1].end()
                i += found
            else:
                i += 1
        return "".join(out) + value[last:] if out else value


_memory = NameMemory(MAX_REMEMBERED)


def redact_value(value: Any) -> Any:
    if isinstance(value, str):
        for pattern in _PATTERNS:
            value = pattern.sub(REDACTED, value)
        return _memory.redact(value)
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() in PERSONAL_KEYS else redact_value(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """structlog processor: drop personal data by field name and by value pattern."""
    return {k: (REDACTED if k.lower() in PERSONAL_KEYS else redact_value(v)) for k, v in event_dict.items()}


def remember_names(*names: str | None) -> None:
    """Names and other identifying strings seen in this process (an intake being opened or delivered) are
    redacted from every later line, whatever field or message carries them, as whole words and whatever
    the case or spacing. The newest `MAX_REMEMBERED` count."""
    for name in names:
        if name and len(name.strip()) >= 3:
            _memory.remember(name.strip())


def remember_person(full_name: str | None, *identifying: str | None) -> None:
    """A person's full name and each part of it (4 letters or more: "Siti" alone is still her), and other
    identifying strings (address, e-mail, document number) whole."""
    parts = [p for p in (full_name or "").split() if len(p) >= 4]
    remember_names(full_name, *parts, *identifying)


# What Temporal's loggers put in `extra`, reduced to the fields a line needs (no namespace, attempt, ...).
_TEMPORAL_FIELDS = {"temporal_workflow": ("workflow_id", "run_id", "workflow_type"),
                    "temporal_activity": ("workflow_id", "activity_id", "activity_type")}


def _temporal_context(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    record = event_dict.get("_record")
    for attr, fields in _TEMPORAL_FIELDS.items():
        info = event_dict.pop(attr, None) or (getattr(record, attr, None) if record is not None else None)
        if isinstance(info, dict):
            for field in fields:
                if info.get(field) is not None:
                    event_dict.setdefault(field, info[field])
    workflow_id = event_dict.get("workflow_id")
    if isinstance(workflow_id, str) and workflow_id.startswith("case-"):
        event_dict.setdefault("case_id", workflow_id.removeprefix("case-"))
    return event_dict


def _trace_context(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


_configured = False


def configured() -> bool:
    """True once `configure` ran in this process."""
    return _configured


def configure(level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    """Configure structlog and stdlib logging for this process (call once, at start)."""
    global _configured, _pending
    import structlog
    from temporalio import activity, workflow

    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _temporal_context,
        _trace_context,
        # Tracebacks become text before redaction: an exception message can quote what an agency sent back.
        structlog.processors.format_exc_info,
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
    # Temporal's SDK logs a line per poll failure; warnings are enough. Our own lines from workflows and
    # activities (workflow.logger / activity.logger) keep the configured level.
    logging.getLogger("temporalio").setLevel(max(logging.WARNING, root.level))
    for name in ("temporalio.workflow", "temporalio.activity"):
        logging.getLogger(name).setLevel(root.level)
    # The workflow and activity ids are fields of each line (`_temporal_context`), not a dict in its text.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    _configured = True
    _pending = None


# --- configured when the first line is logged (the CLI) ------------------------------------------------

_pending: tuple[str, str] | None = None


class _FirstLine(logging.Handler):
    """The root's handler until a line is logged: configures the logs as `configure_on_first_line` was told,
    then hands the line to the handler `configure` installed."""

    def emit(self, record: logging.LogRecord) -> None:
        configure_pending()
        for handler in logging.getLogger().handlers:
            if handler is not self and record.levelno >= handler.level:
                handler.handle(record)


def configure_on_first_line(level: str, fmt: str) -> None:
    """`configure(level, fmt)` when this process logs its first line, through stdlib logging (the Temporal SDK,
    a library) or a logger of `get_logger`: a CLI call that logs nothing never imports structlog. The root
    logger and Temporal's get their levels now, so what is logged, and how, is as after `configure`."""
    global _pending
    _pending = (level, fmt)
    root = logging.getLogger()
    root.handlers[:] = [_FirstLine()]
    root.setLevel(level.upper())
    logging.getLogger("temporalio").setLevel(max(logging.WARNING, root.level))
    for name in ("temporalio.workflow", "temporalio.activity"):
        logging.getLogger(name).setLevel(root.level)


def configure_pending() -> None:
    """Run the `configure` that `configure_on_first_line` left pending, if its handler is still the root's
    (a host that configured logging since keeps its own)."""
    pending = _pending
    if pending is not None and any(isinstance(h, _FirstLine) for h in logging.getLogger().handlers):
        configure(*pending)


class _Logger:
    """A structlog logger, looked up when it first logs (after `configure_pending`): importing the module that
    holds it imports no structlog."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, attr: str) -> Any:
        if self._logger is None:
            configure_pending()
            import structlog

            self._logger = structlog.get_logger(self._name)
        return getattr(self._logger, attr)


def get_logger(name: str) -> Any:
    """`structlog.get_logger(name)`, for a module the CLI imports: structlog is imported when it first logs."""
    return _Logger(name)
