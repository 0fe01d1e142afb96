"""Every saved history replays on the current code; a non-deterministic change is caught.

Histories in tests/replay/histories were recorded with `python -m sinergi.testing.record` using the
public test-only key. When a workflow change is deliberate, guard it with `workflow.patched` so these
still replay; add a new history when the workflow gains a new shape (README "Safe upgrades").
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from google.protobuf import json_format
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory

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


async def _rewritten(path: Path, change) -> WorkflowHistory:
    """The history at `path` with `change(obj, kind)` applied to its decoded workflow input (kind "input") and
    every accepted update's argument (kind "update"), re-encrypted: what an older release could have stored."""
    saved = json.loads(path.read_text())
    history = copy.deepcopy(saved["history"])
    codec = TEST_CONVERTER.payload_codec
    for entry in history["events"]:
        for kind, attributes, where in (
                ("input", "workflowExecutionStartedEventAttributes", ("input",)),
                ("update", "workflowExecutionUpdateAcceptedEventAttributes", ("acceptedRequest", "input", "args"))):
            if attributes not in entry:
                continue
            holder = entry[attributes]
            for key in where:
                holder = holder[key]
            payloads = holder["payloads"]
            (plain,) = await codec.decode([json_format.ParseDict(payloads[0], Payload())])
            obj = json.loads(plain.data)
            change(obj, kind)
            plain.data = json.dumps(obj).encode()
            (sealed,) = await codec.encode([plain])
            payloads[0] = json_format.MessageToDict(sealed)
    return WorkflowHistory.from_json(saved["workflow_id"], history)


def _over_todays_limits(obj: dict, kind: str) -> None:
    if kind == "input":  # an intake of an older release: longer lists and texts than now allowed
        obj["intake"]["situation"]["exploitation"] = ["x" * 150] * 60
        obj["intake"]["situation"]["sector"] = "s" * 500
        return
    event = obj["event"]
    event["occurred_at"] = 1_700_000_000  # a number, once read as seconds since 1970
    if event["type"] == "identification.screening_completed":
        event["data"]["indicators"] = ["i" * 150] * 60
    if event["type"] == "consent.withdrawn":
        event["data"]["agency"] = "Dinas Sosial " + "x" * 200


async def test_a_history_holding_input_beyond_todays_limits_still_replays():
    # Limits are checked where input enters, never where a stored model is read back (sinergi.domain.limits).
    path = Path(__file__).parent / "histories" / "full_lifecycle_abroad_rules_v3.json"
    report = await replay([await _rewritten(path, _over_todays_limits)], TEST_CONVERTER)
    assert report.ok, report.failures


def _places_as_written(changed: list[str]):
    def change(obj: dict, kind: str) -> None:
        if kind == "input":  # an intake of a release before places were codes: as its operator wrote them, typos too
            obj["intake"]["regency"] = "kab banjr"
            obj["intake"]["person"]["home_regency"] = "somewhere near the river"
            changed.append("intake")
            return
        event = obj["event"]
        if event["type"] == "repatriation.arrived_home":
            event["data"]["regency"] = "home regency (not shared with this office)"
            changed.append(event["type"])
    return change


async def test_a_history_holding_places_as_written_before_they_were_codes_still_replays():
    # Places are checked and kept by code where input enters (SPEC "Places"), never where a history is read back.
    changed: list[str] = []
    path = Path(__file__).parent / "histories" / "full_lifecycle_abroad_rules_v3.json"
    report = await replay([await _rewritten(path, _places_as_written(changed))], TEST_CONVERTER)
    assert report.ok, report.failures
    assert changed == ["intake", "repatriation.arrived_home"]
