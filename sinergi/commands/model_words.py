"""The words a model's own checks say (an intake's or an agreement's places, dates), in the operator's language.

The domain speaks English (`sinergi.domain.places`); a message of a known form (`MODEL_FORMS`) is told in the run's
language with its `{fields}` read back out of the English, as `case_words` does for the case's refusals (which
include these forms). Imports only the catalog: `console` uses it for pydantic's `value_error`s.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable
from functools import cache

from sinergi.commands.language import N_, _

# Most specific first: the first form that matches the whole message wins.
MODEL_FORMS = (
    N_("no regency given"),
    N_("no province given"),
    N_("{text} is ambiguous in {where}: {listed}; give its province too"),
    N_("{text} is ambiguous in {where}: {listed}; write {names}"),
    N_("{text} names several regencies: {listed}; write its full name or its code"),
    N_("no regency {text} in {where} (elsewhere: {elsewhere}); nearest: {listed}"),
    N_("no regency {text} in {where}: its codes start with {code}"),
    N_("no regency {text}: no province has code {code}"),
    N_("no regency {text} in {where}; nearest: {listed}"),
    N_("no province {text}; nearest: {listed}"),
    N_("regency {text} is {label} in {province}, not in {where}"),
    N_("person.date_of_birth is after received_at: expected a date in the past"),
)


@cache
def _pattern(form: str) -> re.Pattern[str]:
    parts = []
    for literal, field, _spec, _conversion in string.Formatter().parse(form):
        parts.append(re.escape(literal))
        if field:
            parts.append(f"(?P<{field}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


def told(forms: Iterable[str], message: str, value: Callable[[str, str], str] = lambda field, text: text) -> str:
    """`message` in the run's language if it has one of `forms` (each field's text through `value`), else as it
    is."""
    for form in forms:
        found = _pattern(form).fullmatch(message)
        if found:
            return _(form).format(**{k: value(k, v) for k, v in found.groupdict().items()})
    return message


def translated(message: str) -> str:
    """A model's own check's message in the run's language, where it has a known form."""
    return told(MODEL_FORMS, message)
