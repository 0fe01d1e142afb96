"""Argument types the commands share: a case id as people copy it, and an event type with shell completion."""

from __future__ import annotations

from typing import Any

import click

from sinergi.commands.language import _
from sinergi.domain.ids import CASE_ID_PATTERN, workflow_id

# `case-`: how the Temporal UI shows a case (its workflow id), read off the one function that makes it.
WORKFLOW_PREFIX = workflow_id("")


def normalise_case_id(text: str) -> str:
    """The case id in `text`, as people copy it: in any letter case, with blanks around it, or as its workflow
    id from the Temporal UI (`case-KALSEL-2026-7Q2M9XKD`). Raises ValueError if it cannot be one.

    The workflow prefix is taken off only when what follows is itself an id in parts (`KALSEL-2026-...`): a case
    opened with `--id CASE-123` stays `CASE-123`.
    """
    value = text.strip()
    rest = value[len(WORKFLOW_PREFIX):]
    if value.startswith(WORKFLOW_PREFIX) and "-" in rest and CASE_ID_PATTERN.match(rest.upper()):
        value = rest
    value = value.upper()
    if not CASE_ID_PATTERN.match(value):
        raise ValueError(_("{text!r} is not a case id: expected letters, digits and '-', 3 to 64 characters, "
                           "e.g. KALSEL-2026-7Q2M9XKD (or its workflow id, case-KALSEL-2026-7Q2M9XKD)").format(
                             text=text))
    return value


class CaseId(click.ParamType):
    """A CASE_ID argument, normalised (`normalise_case_id`)."""

    name = "case_id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            return normalise_case_id(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


CASE_ID = CaseId()


def complete_event_type(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Shell completion of an event type: the types an office or operator may send."""
    from sinergi.commands.event_catalog import public_types

    return [t for t in public_types() if t.startswith(incomplete)]
