"""Capturing this process's log lines, rendered exactly as `sinergi.platform.logs.configure` renders them."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from sinergi.platform import logs


@contextmanager
def captured_log_lines(level: str = "DEBUG") -> Iterator[io.StringIO]:
    """Every JSON log line from here on, into a buffer; the previous logging set-up is restored after."""
    buffer = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, structlog.get_config())
    logs.configure(level, "json", stream=buffer)
    try:
        yield buffer
    finally:
        root.handlers[:], level_before, config = saved
        root.setLevel(level_before)
        structlog.configure(**config)
