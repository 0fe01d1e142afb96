"""Every saved history replays on the current code; a non-deterministic change is caught.

Histories in tests/replay/histories were recorded with `python -m sinergi.testing.record` using the
public test-only key. When a workflow change is deliberate, guard it with `workflow.patched` so these
still replay; add a new history when the workflow gains a new shape (README "Safe upgrades").
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio import workflow

from sinergi.domain.case import CaseInput
from sinergi.replay import load_history, replay
from sinergi.testing.cases import TEST_CONVERTER
from sinergi.workflows import messages as m
from sinergi.workflows.case import CaseWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


@workflow.defn(name="CaseWorkflow", sandboxed=False)
class CaseWorkflowWithoutSearchAttributes(CaseWorkflow):
    """A careless change: it stops publishing search attributes, so its commands differ from history."""

    @workflow.run
    async def run(self, case: CaseInput) -> m.CaseResult:
        return await super().run(case)

    def _publish(self) -> None:
        return None


def test_saved_histories_exist():
    assert len(HISTORIES) >= 3, "tests/replay/histories lost its recorded histories"


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_saved_history_replays_on_current_code(path: Path):
    report = await replay([load_history(path)], TEST_CONVERTER)
    assert report.ok, report.failures
    assert report.replayed == [load_history(path).workflow_id]


async def test_non_deterministic_change_fails_replay():
    report = await replay([load_history(p) for p in HISTORIES], TEST_CONVERTER,
                          workflows=[CaseWorkflowWithoutSearchAttributes])
    assert not report.ok
    assert set(report.failures) == {load_history(p).workflow_id for p in HISTORIES}
    assert all("Nondeterminism" in failure for failure in report.failures.values()), report.failures
