"""Output for people and for scripts: JSON on stdout with `--json`, aligned tables otherwise, errors on
stderr, and the exit codes of SPEC (0 done, 1 refused by the case, 2 bad input, 3 unreachable)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import click
from pydantic import BaseModel, ValidationError

from sinergi.domain.durations import province_zone

DONE, REFUSED, BAD_INPUT, UNREACHABLE = 0, 1, 2, 3


class UserError(click.ClickException):
    """An error the user can fix; printed without a traceback, with its exit code."""

    def __init__(self, message: str, exit_code: int = BAD_INPUT, hint: str | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.hint = hint

    def show(self, file: Any = None) -> None:
        err = file or sys.stderr
        click.echo(click.style("error: ", fg="red", bold=True) + self.message, file=err)
        if self.hint:
            click.echo(click.style("hint: ", fg="yellow") + self.hint, file=err)


def validation_lines(exc: ValidationError, prefix: str = "") -> list[str]:
    """One line per bad field: `person.date_of_birth: Input should be a valid date (got '14-03-2001')`."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("tagged-union", "function-")))
        got = err.get("input")
        shown = f" (got {got!r})" if got is not None and not isinstance(got, dict | list) and err["type"] != "missing" \
            else ""
        lines.append(f"{prefix}{loc or '(root)'}: {err['msg']}{shown}")
    return lines


def to_jsonable(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, list | tuple):
        return [to_jsonable(o) for o in obj]
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    return obj


def print_json(obj: Any) -> None:
    click.echo(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, default=str))


def local_time(value: datetime | None, province: str) -> str:
    """`2026-11-28 08:00 WITA (+08:00)`: times in the case's own zone, with the offset spelled out."""
    if value is None:
        return "-"
    zone = province_zone(province)
    local = value.astimezone(zone)
    offset = f"{local:%z}"
    return f"{local:%Y-%m-%d %H:%M} {zone.tzname(None)} ({offset[:3]}:{offset[3:]})"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    rows = [["" if c is None else str(c) for c in row] for row in rows]
    # Widths by what shows: a coloured cell's escape codes take no room on a terminal and are dropped elsewhere.
    widths = [max([len(h), *(len(click.unstyle(r[i])) for r in rows)]) for i, h in enumerate(headers)]

    def pad(cell: str, width: int) -> str:
        return cell + " " * (width - len(click.unstyle(cell)))

    # Pad, strip, then style: styled padding would leave trailing blanks once the colour codes are dropped.
    head = "  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    body = ["  ".join(pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join([click.style(head, bold=True), *body])


def state_colour(state: str) -> str:
    colour = {"breached": "red", "failed": "red", "declined": "yellow", "paused": "yellow", "held": "yellow",
              "running": "cyan", "completed": "green", "stopped": "green", "accepted": "green"}.get(state)
    return click.style(state, fg=colour) if colour else state
