"""Running the real `sinergi` program in a subprocess, and checking what an operator sees.

Subprocesses run with `asyncio.create_subprocess_exec`, so a worker in the test process keeps serving while
the CLI waits on it. Each gets an isolated cwd and HOME and sees only the settings a test gives it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import socket
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SINERGI = str(Path(sys.executable).parent / "sinergi")
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Variables that would make the CLI colour its output, pick another configuration (a user's profiles in
# $XDG_CONFIG_HOME/sinergi) or speak another language (the locale), behind the test's back.
_DROPPED = ("NO_COLOR", "FORCE_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "OTEL_EXPORTER_OTLP_ENDPOINT", "XDG_CONFIG_HOME",
            "LC_ALL", "LC_MESSAGES", "LANGUAGE")


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as JSON: with `--json`, nothing else may be on stdout."""
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"stdout of `sinergi {' '.join(self.args)}` is not JSON: {exc}\n{self}") from exc

    def __str__(self) -> str:
        return (f"`sinergi {' '.join(self.args)}` exited {self.code}\n--- stdout\n{self.stdout}"
                f"\n--- stderr\n{self.stderr}")


def base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SINERGI_") and k not in _DROPPED}
    # English unless a test asks for another language (a developer's own locale may be id_ID).
    return {**env, "HOME": str(home), "TERM": "xterm-256color", "PYTHONUNBUFFERED": "1", "LANG": "C.UTF-8"}


async def run_sinergi(*args: str, env: dict[str, str], cwd: Path, timeout: float = 60) -> Result:
    process = await asyncio.create_subprocess_exec(
        SINERGI, *args, env=env, cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"`sinergi {' '.join(args)}` did not finish within {timeout} s") from None
    return Result(args, process.returncode, out.decode(), err.decode())


class Cli:
    """`await cli("case", "status", case_id, "--json")` runs the real program with this test's settings."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd

    async def __call__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
        return await run_sinergi(*args, env={**self.env, **(env or {})}, cwd=self.cwd, timeout=timeout)

    def with_env(self, **extra: str) -> Cli:
        return Cli({**self.env, **extra}, self.cwd)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_user_error(result: Result, code: int, *needles: str) -> None:
    """Exit `code`, every needle on stderr, no traceback anywhere, nothing on stdout."""
    assert result.code == code, str(result)
    assert "Traceback" not in result.stderr + result.stdout, str(result)
    assert result.stderr.startswith("error: "), str(result)
    for needle in needles:
        assert needle in result.stderr, f"{needle!r} not on stderr\n{result}"


def assert_json_error(result: Result, code: int, error: str, *needles: str) -> dict[str, Any]:
    """With --json: exit `code`, the error as one JSON object on stdout (`{"error", "message", "details", "hint"}`,
    as the gateway's), `error` its code, every needle in its message; no traceback, no text error on stderr."""
    assert result.code == code, str(result)
    assert "Traceback" not in result.stderr + result.stdout and "error: " not in result.stderr, str(result)
    body = result.json()
    assert {"error", "message", "details", "hint"} <= set(body) and body["error"] == error, str(result)
    for needle in needles:
        assert needle in body["message"], f"{needle!r} not in the message\n{result}"
    return body


def assert_aligned(text: str) -> None:
    """Every table in `text` (an upper-case header, rows up to a blank line) has its columns where the header
    has them, and no line ends in blanks."""
    lines = text.splitlines()
    assert all(line == line.rstrip() for line in lines), f"trailing blanks:\n{text}"
    for i, header in enumerate(lines):
        if not (header.isupper() and "  " in header):
            continue
        starts = [m.start() for m in re.finditer(r"(?<=  )\S", header)]
        for row in itertools.takewhile(bool, lines[i + 1:]):
            for start in starts:
                assert len(row) < start or row[start - 2:start] == "  ", f"misaligned:\n{header}\n{row}"


def intake_dict(**overrides: Any) -> dict[str, Any]:
    """A valid intake (SPEC "Intake file"), unique per call (its own `recorded_by`)."""
    raw: dict[str, Any] = {
        "province": "KALSEL", "regency": "Kabupaten Banjar", "received_at": "2026-11-27T08:00:00+08:00",
        "source": {"agency": "bp3mi", "channel": "debarkation"},
        "person": {"full_name": "Siti Contoh", "sex": "F", "date_of_birth": "2001-03-14", "nationality": "ID",
                   "phone": "+62 812 0000 0000", "home_regency": "Kabupaten Banjar"},
        "situation": {"location_country": "MY", "exploitation": ["forced_labour"], "sector": "domestic_work",
                      "means_of_control": ["withholds_documents"], "is_pmi": True, "procedural": False},
        "consent": {"services": True, "data_sharing": True, "legal": True,
                    "recorded_by": f"officer-{uuid.uuid4().hex[:8]}"},
        "flags": {"sexual_exploitation": False},
    }
    for key, value in overrides.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) and isinstance(raw.get(key), dict) else value
    return raw
