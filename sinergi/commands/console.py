"""Output for people and for scripts: JSON on stdout with `--json` (or `--output json|jsonl`), aligned tables
otherwise, and the exit codes of SPEC (0 done, 1 refused by the case, 2 bad input, 3 unreachable).

An error goes where the output goes: with `--json` it is one JSON object on stdout, `{"error", "message",
"details", "hint"}` as the gateway's error bodies (`error` a stable code), and the exit code is the same;
otherwise it is text on stderr. Colour follows `--color auto|always|never`; `auto` colours a terminal only,
and never when `NO_COLOR` is set (https://no-color.org).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from pydantic import ValidationError

# Nothing heavy at the top: `sinergi --version` and `--help` import this module (pydantic comes with the
# commands that build models; `to_jsonable` finds it loaded then).

DONE, REFUSED, BAD_INPUT, UNREACHABLE = 0, 1, 2, 3
OUTPUTS = ("table", "json", "jsonl")
COLORS = ("auto", "always", "never")
# The error code of a user error that names none, by its exit code.
_CODES = {REFUSED: "refused", BAD_INPUT: "bad_input", UNREACHABLE: "unavailable"}


@dataclass(frozen=True)
class Output:
    """How this run prints: `mode` table (for people), json or jsonl; `color` True, False or None (a terminal
    only)."""

    mode: str = "table"
    color: bool | None = None

    @property
    def as_json(self) -> bool:
        return self.mode != "table"


_output = Output()


def use_output(output: Output) -> None:
    """Print the rest of this run, errors included, as `output` says."""
    global _output  # noqa: PLW0603 - one process, one output: the errors printed after the command ended need it
    _output = output


def current_output() -> Output:
    return _output


def color_choice(choice: str | None, env: Mapping[str, str]) -> bool | None:
    """`--color`: always True, never False, auto (or unset) None — a terminal decides — unless NO_COLOR is set."""
    if choice == "always":
        return True
    if choice == "never" or env.get("NO_COLOR"):
        return False
    return None


def guess_output(args: Sequence[str], env: Mapping[str, str]) -> Output:
    """The output the command line asks for, read before click parses it: a usage error is printed as the
    flags ask too. The parsed options refine it once the command runs (`kit.common`)."""
    mode, color = "table", None
    words = list(args[:args.index("--")] if "--" in args else args)
    for i, word in enumerate(words):
        value = words[i + 1] if i + 1 < len(words) else None
        if word in ("-o", "--output") and value in OUTPUTS:
            mode = value
        elif word.startswith("--output=") and word.partition("=")[2] in OUTPUTS:
            mode = word.partition("=")[2]
        elif word == "--color" and value in COLORS:
            color = value
        elif word.startswith("--color=") and word.partition("=")[2] in COLORS:
            color = word.partition("=")[2]
    if "--json" in words and mode == "table":  # `--json --output table` is refused: as JSON
        mode = "json"
    return Output(mode, color_choice(color, env))


class UserError(click.ClickException):
    """An error the user can fix; printed without a traceback, with its exit code.

    `code` is the stable machine-readable name scripts branch on (as the gateway's `error`), `details` what
    a script needs besides the message (the bad fields, the events accepted now); both appear with `--json`.
    `result` is what the command produced all the same (a bulk intake's rejected lines): its keys join the
    JSON body, so the command's own JSON shape holds even when it fails.
    """

    def __init__(self, message: str, exit_code: int = BAD_INPUT, hint: str | None = None, *,
                 code: str | None = None, details: Any = None, result: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.hint = hint
        self.code = code or _CODES.get(exit_code, "error")
        self.details = details
        self.result = result or {}

    def body(self) -> dict[str, Any]:
        """The error as `--json` prints it."""
        return {**to_jsonable(dict(self.result)), "error": self.code, "message": self.message,
                "details": to_jsonable(self.details), "hint": self.hint}

    def show(self, file: Any = None) -> None:
        output = current_output()
        if output.as_json and file is None:
            click.echo(_dumps(self.body(), output), color=False)
            return
        err = file or sys.stderr
        click.echo(click.style("error: ", fg="red", bold=True) + self.message, file=err, color=output.color)
        if self.hint:
            click.echo(click.style("hint: ", fg="yellow") + self.hint, file=err, color=output.color)


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


def field_problems(exc: ValidationError) -> list[dict[str, Any]]:
    """The bad fields of `exc` as `--json` gives them: `{"field", "message", "type"}`, as the gateway's."""
    return [{"field": line.partition(": ")[0], "message": err["msg"], "type": err["type"]}
            for line, err in zip(validation_lines(exc), exc.errors(), strict=True)]


def _is_model(obj: Any) -> bool:
    """A pydantic model? Without importing pydantic: if it is not loaded, nothing can be one."""
    models = sys.modules.get("pydantic.main")
    return models is not None and isinstance(obj, models.BaseModel)


def to_jsonable(obj: Any) -> Any:
    if _is_model(obj):
        return obj.model_dump(mode="json")
    if isinstance(obj, list | tuple):
        return [to_jsonable(o) for o in obj]
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    return obj


def print_json(obj: Any) -> None:
    """`obj` as JSON on stdout: indented (`--json`, `--output json`), or one compact line per item of a list
    (`--output jsonl`; anything else on one line)."""
    text = _dumps(to_jsonable(obj), current_output())
    if text:  # an empty list in JSON Lines is no line at all
        click.echo(text, color=False)


def _dumps(obj: Any, output: Output) -> str:
    if output.mode != "jsonl":
        return json.dumps(obj, indent=2, ensure_ascii=False, default=str)
    rows = obj if isinstance(obj, list) else [obj]
    return "\n".join(json.dumps(row, ensure_ascii=False, default=str) for row in rows)


def local_time(value: datetime | None, province: str) -> str:
    """`2026-11-28 08:00 WITA (+08:00)`: times in the case's own zone, with the offset spelled out."""
    if value is None:
        return "-"
    from sinergi.domain.durations import province_zone

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
