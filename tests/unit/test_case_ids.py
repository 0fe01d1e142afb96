"""A case id as people type or copy it (issue 23, item 5): any letter case, blanks around it, or the workflow id
the Temporal UI shows; never a different case's id by accident."""

from __future__ import annotations

import pytest

from sinergi.commands.params import normalise_case_id
from sinergi.domain.ids import new_case_id, workflow_id


@pytest.mark.parametrize(("typed", "meant"), [
    ("KALSEL-2026-7Q2M9XKD", "KALSEL-2026-7Q2M9XKD"),
    ("kalsel-2026-7q2m9xkd", "KALSEL-2026-7Q2M9XKD"),
    ("  KALSEL-2026-7Q2M9XKD\n", "KALSEL-2026-7Q2M9XKD"),
    ("case-KALSEL-2026-7Q2M9XKD", "KALSEL-2026-7Q2M9XKD"),
    ("case-kalsel-2026-7q2m9xkd", "KALSEL-2026-7Q2M9XKD"),
    # An id given with --id that begins like a workflow id keeps its own name.
    ("CASE-123", "CASE-123"),
    ("case-123", "CASE-123"),
])
def test_a_case_id_is_normalised(typed: str, meant: str) -> None:
    assert normalise_case_id(typed) == meant


def test_the_workflow_id_of_any_new_case_leads_back_to_it() -> None:
    case_id = new_case_id("KALSEL", 2026)
    assert normalise_case_id(workflow_id(case_id)) == case_id
    assert normalise_case_id(workflow_id(case_id).lower()) == case_id


@pytest.mark.parametrize("typed", ["", "ab", "not an id!", "KALSEL_2026", "-KALSEL-2026", "x" * 65])
def test_what_cannot_be_a_case_id_is_refused_with_an_example(typed: str) -> None:
    with pytest.raises(ValueError, match="is not a case id.*KALSEL-2026-7Q2M9XKD"):
        normalise_case_id(typed)
