"""Replaying saved or recent histories against the current workflow code: the safety net of every
upgrade. A change that is not deterministic for an existing history fails here, before it ships."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.converter import DataConverter, DefaultFailureConverter
from temporalio.runtime import Runtime
from temporalio.worker import Replayer

from sinergi.platform.remote_codec import for_workflow
from sinergi.worker import WORKFLOWS, workflow_runner

# Every case, running or closed, newest first: what an upgrade must still be able to replay.
DEFAULT_QUERY = "WorkflowType = 'CaseWorkflow'"
# The SDK core wraps the reason in a debug dump of the failure; its `message: "..."` is what people need.
_CORE_MESSAGE = re.compile(r'message: "((?:[^"\\]|\\.)*)"')


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


async def namespace_histories(client: Client, query: str = DEFAULT_QUERY, limit: int = 100) -> AsyncIterator[
        WorkflowHistory]:
    """The histories of the newest `limit` executions matching the visibility `query`, one at a time."""
    async for history in client.list_workflows(query, limit=limit).map_histories():
        yield history


async def replay(histories: Iterable[WorkflowHistory] | AsyncIterable[WorkflowHistory], converter: DataConverter,
                 workflows: list[type] | None = None, runtime: Runtime | None = None) -> ReplayReport:
    """Replay each history on `workflows` (the worker's, by default); every failure is reported, none raised."""
    # A replay failure never leaves this machine: keep its message readable instead of encrypted. Failures
    # recorded in the history still decode, whichever failure converter reads them.
    converter = dataclasses.replace(converter, failure_converter_class=DefaultFailureConverter)
    replayer = Replayer(workflows=workflows or WORKFLOWS, data_converter=converter, runtime=runtime,
                        workflow_runner=workflow_runner())
    report = ReplayReport()
    async for history in _each(histories):
        # Through the gateway's codec (`[codec] endpoint`), each decode is audited under its case.
        with for_workflow(history.workflow_id):
            result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        report.replayed.append(history.workflow_id)
        if result.replay_failure is not None:
            # Runs of one workflow id (continue-as-new) must not hide each other's failures.
            label = history.workflow_id
            if label in report.failures:
                label = f"{label} (run {history.run_id})"
            report.failures[label] = describe(result.replay_failure)
    return report


def describe(failure: BaseException) -> str:
    """`NondeterminismError: [TMPRL1100] Nondeterminism error: ...`: the error type and the core's reason."""
    text = str(failure)
    found = _CORE_MESSAGE.search(text)
    return f"{type(failure).__name__}: {found.group(1) if found else text}"


async def _each(histories: Iterable[WorkflowHistory] | AsyncIterable[WorkflowHistory]):
    if isinstance(histories, AsyncIterable):
        async for history in histories:
            yield history
    else:
        for history in histories:
            yield history
