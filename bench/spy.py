"""The one `py-spy record` command the benchmarks start (the `bench` extra; needs ptrace rights, profile.md)."""

from __future__ import annotations

import sys
from pathlib import Path

SUFFIX = {"flamegraph": "svg", "speedscope": "json", "raw": "txt"}


def record_command(pid: int, output: Path, fmt: str = "raw", seconds: float | None = None) -> list[str]:
    """Sample `pid` at 100 Hz into `output`, for `seconds` or until the process exits."""
    command = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid), "--rate", "100",
               "--format", fmt, "--output", str(output), "--nonblocking"]
    return command if seconds is None else [*command, "--duration", str(max(1, round(seconds)))]
