"""The work behind `sinergi admin records backfill` and `sinergi admin erase`.

Back-fill: every case the namespace holds (open, closed, each continued run) into the case record — what its
state holds (asked of the case itself, so a worker must be running) and every event its history shows applied.
Facts are kept once: a back-fill run twice, or over cases the worker already records, adds nothing.

Erase: a data subject's erasure of a closed case (UU 27/2022 Art. 8): the case's data key and sealed items go
from the record, a tombstone stays; the report facts (no personal data) remain; the case's Temporal history,
which holds the intake under the deployment's codec key, is deleted too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from sinergi.platform.config import Settings

CASES = "WorkflowType = 'CaseWorkflow'"


@dataclass
class Backfill:
    cases: int = 0
    runs: int = 0
    facts: int = 0
    written: int = 0
    failed: dict[str, str] = field(default_factory=dict)


async def backfill(settings: Settings, *, query: str = CASES) -> Backfill:
    from sinergi import bootstrap
    from sinergi.activities.record import build_facts
    from sinergi.platform.temporal import connect
    from sinergi.workflows import messages as m

    client = await connect(settings)
    record = await bootstrap.case_record(settings)
    done = Backfill()
    seen: set[str] = set()
    try:
        async for execution in client.list_workflows(query):
            done.runs += 1
            facts: list[dict[str, Any]] = []
            try:
                facts += await _applied_events(client, execution.id, execution.run_id)
                if execution.status != WorkflowExecutionStatus.CONTINUED_AS_NEW:
                    handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
                    batch = await handle.query(m.RECORD, result_type=m.RecordBatch)
                    facts += batch.facts
                written = await record.write(build_facts(facts))
            except Exception as exc:  # noqa: BLE001 - one case's failure is reported, the others go on
                done.failed[execution.id] = f"{type(exc).__name__}: {exc}"[:300]
                continue
            if execution.id not in seen:
                seen.add(execution.id)
                done.cases += 1
            done.facts += len(facts)
            done.written += written.written
    finally:
        await record.close()
    return done


async def _applied_events(client: Client, workflow_id: str, run_id: str | None) -> list[dict[str, Any]]:
    """EventApplied facts for the events this run's history shows applied (duplicates left out)."""
    from sinergi.domain.events import EventEnvelope
    from sinergi.workflows import messages as m

    convert = client.data_converter
    accepted: dict[str, EventEnvelope] = {}
    out: list[dict[str, Any]] = []
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            if request.input.name == m.APPLY_EVENT:
                envelope, = await convert.decode(request.input.args.payloads, [EventEnvelope])
                accepted[request.meta.update_id] = envelope
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            attributes = event.workflow_execution_update_completed_event_attributes
            envelope = accepted.pop(attributes.meta.update_id, None)
            if envelope is None or not attributes.outcome.HasField("success"):
                continue
            outcome, = await convert.decode(attributes.outcome.success.payloads, [m.EventOutcome])
            if outcome.duplicate:
                continue
            applied_at = event.event_time.ToDatetime().replace(tzinfo=UTC)
            sender = envelope.sender.office if envelope.sender else (envelope.event.source or "operator")
            out.append({"kind": "EventApplied", "case_id": outcome.case_id, "sender": sender,
                        "event_id": envelope.event.event_id, "type": envelope.event.type,
                        "occurred_at": envelope.event.occurred_at.isoformat(), "applied_at": applied_at.isoformat(),
                        **({"entered_by": envelope.entered_by} if envelope.sender and envelope.entered_by else {})})
    return out


@dataclass
class Erasure:
    case_id: str
    personal_items_deleted: int
    already: bool
    history_deleted: bool


class CaseStillOpen(Exception):
    """Erasure refused: the case is open (its personal data is still needed to assist the victim)."""


async def erase(settings: Settings, case_id: str, *, requested_by: str, basis: str) -> Erasure:
    from temporalio.api.common.v1 import WorkflowExecution
    from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
    from temporalio.service import RPCError, RPCStatusCode

    from sinergi import bootstrap
    from sinergi.domain.ids import workflow_id
    from sinergi.platform.temporal import connect

    client = await connect(settings)
    handle = client.get_workflow_handle(workflow_id(case_id))
    in_temporal = True
    try:
        described = await handle.describe()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        in_temporal = False
    else:
        if described.status == WorkflowExecutionStatus.RUNNING:
            raise CaseStillOpen(case_id)
    record = await bootstrap.case_record(settings)
    try:
        erased = await record.erase(case_id, requested_by=requested_by, basis=basis)
    finally:
        await record.close()
    if in_temporal:
        await client.workflow_service.delete_workflow_execution(DeleteWorkflowExecutionRequest(
            namespace=settings.temporal.namespace, workflow_execution=WorkflowExecution(workflow_id=handle.id)))
    return Erasure(case_id=case_id, personal_items_deleted=erased.personal_items_deleted, already=erased.already,
                   history_deleted=in_temporal)
