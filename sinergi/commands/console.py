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

from sinergi.commands.language import N_, _, local_datetime, words

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
        click.echo(click.style(_("error: "), fg="red", bold=True) + self.message, file=err, color=output.color)
        if self.hint:
            click.echo(click.style(_("hint: "), fg="yellow") + self.hint, file=err, color=output.color)


def validation_lines(exc: ValidationError, prefix: str = "") -> list[str]:
    """One line per bad field: `person.date_of_birth: Input should be a valid date (got '14-03-2001')`."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("tagged-union", "function-")))
        got = err.get("input")
        shown = _(" (got {value!r})").format(value=got) \
            if got is not None and not isinstance(got, dict | list) and err["type"] != "missing" else ""
        lines.append(f"{prefix}{loc or '(root)'}: {problem(err)}{shown}")
    return lines


# pydantic's words for the mistakes people make most, by error type, with its own English as the message: where
# the catalog has them in the run's language they are told in it, else as pydantic told them (tests/unit check
# each is pydantic's template still).
PROBLEMS = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "literal_error": N_("Input should be {expected}"),
    "string_type": N_("Input should be a valid string"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "list_type": N_("Input should be a valid list"),
    "string_too_short": N_("String should have at least {min_length} character{expected_plural}"),
    "string_too_long": N_("String should have at most {max_length} character{expected_plural}"),
}


def problem(err: Mapping[str, Any]) -> str:
    """A pydantic error's message in the run's language, where the catalog has its words."""
    if err["type"] == "value_error":  # a model's own check (a place, a date): pydantic's prefix off, in our words
        from sinergi.commands.model_words import translated

        return translated(str(err["msg"]).removeprefix("Value error, "))
    template = PROBLEMS.get(err["type"])
    said = _(template) if template else None
    if said is None or said == template:
        return str(err["msg"])
    values = dict(err.get("ctx") or {})
    if "expected" in values:  # `'a', 'b' or 'c'`: the values, without pydantic's English `or`
        import re

        values["expected"] = " | ".join(re.findall(r"'([^']*)'", str(values["expected"]))) or values["expected"]
    try:
        return said.format(**values)
    except (KeyError, IndexError, ValueError):
        return str(err["msg"])


def field_problems(exc: ValidationError) -> list[dict[str, Any]]:
    """The bad fields of `exc` as `--json` gives them: `{"field", "message", "type"}`, as the gateway's."""
    return [{"field": line.partition(": ")[0], "message": problem(err), "type": err["type"]}
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
    """`27 November 2026 08.00 WITA` (`08:00` in English): times in the case's own zone, as people write them."""
    if value is None:
        return "-"
    from sinergi.domain.durations import province_zone

    return local_datetime(value, province_zone(province))


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


# What a referral, a clock or a case is in, as people read it (the codes stay in JSON).
CONSENT = {"services": N_("services"), "data_sharing": N_("data sharing"), "legal": N_("legal proceedings")}
STATES = {
    "pending": N_("pending"), "held": N_("held"), "sent": N_("sent"), "acknowledged": N_("acknowledged"),
    "accepted": N_("accepted"), "declined": N_("declined"), "completed": N_("completed"),
    "cancelled": N_("cancelled"), "failed": N_("failed"), "running": N_("running"), "paused": N_("paused"),
    "breached": N_("breached"), "stopped": N_("stopped"),
}
STAGES = {
    "identification": N_("identification"), "protection": N_("protection"), "rehabilitation": N_("rehabilitation"),
    "repatriation": N_("repatriation"), "reintegration": N_("reintegration"), "closed": N_("closed"),
}


def state_colour(state: str) -> str:
    """A state in the run's language, coloured by what it means."""
    colour = {"breached": "red", "failed": "red", "declined": "yellow", "paused": "yellow", "held": "yellow",
              "running": "cyan", "completed": "green", "stopped": "green", "accepted": "green"}.get(state)
    shown = words(STATES, state)
    return click.style(shown, fg=colour) if colour else shown


def stage_word(stage: str) -> str:
    return words(STAGES, stage)
