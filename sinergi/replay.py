"""Replaying saved or recent histories against the current workflow code: the safety net of every
upgrade. A change that is not deterministic for an existing history fails here, before it ships."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from sinergi.worker import WORKFLOWS


@dataclass
class ReplayReport:
    replayed: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures


def load_history(path: Path) -> WorkflowHistory:
    """A history saved as `{"workflow_id": ..., "history": <temporal JSON history>}` or as plain history JSON."""
    raw = json.loads(path.read_text("utf-8"))
    if "history" in raw and "workflow_id" in raw:
        return WorkflowHistory.from_json(raw["workflow_id"], raw["history"])
    return WorkflowHistory.from_json(path.stem, raw)


async def replay(histories: Iterable[WorkflowHistory], converter: DataConverter,
                 workflows: list[type] | None = None) -> ReplayReport:
    replayer = Replayer(workflows=workflows or WORKFLOWS, data_converter=converter)
    report = ReplayReport()
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        report.replayed.append(history.workflow_id)
        if result.replay_failure is not None:
            report.failures[history.workflow_id] = f"{type(result.replay_failure).__name__}: {result.replay_failure}"
    return report
