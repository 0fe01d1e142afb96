"""Temporal's errors as the CLI and the gateway report them: a server that cannot be reached, one that
did not answer in time, and a case that did not answer in time are three different things to tell an
operator or an agency, and each is safe to retry."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from google.protobuf.any_pb2 import Any as AnyProto
from temporalio.api.common.v1 import GrpcStatus
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from sinergi.cases import (
    UPDATE_ATTEMPTS,
    CaseBusy,
    CaseNotFound,
    Cases,
    EventRefused,
    NotAParty,
    ServiceUnavailable,
    _task_refused,
    _translate,
)
from sinergi.domain.events import Sender
from sinergi.gateway.errors import from_case_error
from sinergi.testing.cases import event
from sinergi.workflows.messages import CASE_AGENCIES, CASE_PROVINCE, EventOutcome


@pytest.mark.parametrize(("status", "says"), [
    (RPCStatusCode.UNAVAILABLE, "Temporal is unreachable: connection refused"),
    (RPCStatusCode.DEADLINE_EXCEEDED, "Temporal did not answer in time: connection refused"),
])
def test_an_unreachable_server_and_a_slow_one_are_told_apart(status, says) -> None:
    error = _translate(RPCError("connection refused", status, b""), "KALSEL-2026-X")
    assert isinstance(error, ServiceUnavailable) and not isinstance(error, CaseBusy)
    assert str(error) == says


def test_a_missing_case_is_not_a_service_error() -> None:
    error = _translate(RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b""), "KALSEL-2026-X")
    assert isinstance(error, CaseNotFound) and "KALSEL-2026-X" in str(error)


def test_a_case_that_did_not_answer_in_time_is_told_as_such_to_the_agency() -> None:
    busy = from_case_error(CaseBusy("case KALSEL-2026-X did not answer the event in time"))
    assert (busy.status, busy.code) == (503, "case_unavailable")
    assert busy.message == "the case could not take the event now; retry later"
    assert busy.headers["Retry-After"]

    down = from_case_error(ServiceUnavailable("Temporal is unreachable: connection refused"))
    assert (down.status, down.code) == (503, "temporal_unavailable")
    assert "connection refused" not in down.message  # the server's own words stay inside
    assert down.headers["Retry-After"]


class _UnansweredHandle:
    """A workflow handle whose update call ends as the SDK ends it: its deadline reached, or the caller's
    cancellation, each raised as the same RPC error."""

    async def execute_update(self, *args, **kwargs):
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise WorkflowUpdateRPCTimeoutOrCancelledError() from None
        raise WorkflowUpdateRPCTimeoutOrCancelledError()

    async def describe(self, *args, **kwargs):
        # Asked by `Cases` whether the case is stuck rather than busy: no workflow task pending, so busy.
        return SimpleNamespace(raw_description=DescribeWorkflowExecutionResponse())


class _UnansweredCases(Cases):
    def handle(self, case_id: str):
        return _UnansweredHandle()


async def test_an_event_whose_update_call_reaches_its_deadline_is_a_busy_case() -> None:
    cases = _UnansweredCases(client=None, task_queue="sinergi", policy=lambda: None)  # type: ignore[arg-type]
    with pytest.raises(CaseBusy, match="KALSEL-2026-X did not answer the event in time"):
        await cases.send(event("KALSEL-2026-X", "consent.recorded", scope="services"))


async def test_a_caller_that_gives_up_gets_its_cancellation_back_not_a_busy_case() -> None:
    cases = _UnansweredCases(client=None, task_queue="sinergi", policy=lambda: None)  # type: ignore[arg-type]

    async def give_up_while_waiting():
        task = asyncio.current_task()
        task.cancel()  # the caller's timeout fired: the SDK raises its RPC error in place of the cancellation
        return await cases.send(event("KALSEL-2026-X", "consent.recorded", scope="services"))

    with pytest.raises(asyncio.CancelledError):
        await asyncio.create_task(give_up_while_waiting())


def _task_refused_error() -> RPCError:
    """What the server answers an update whose workflow task it refused (as the dev server sends it)."""
    message = "Unable to perform workflow execution update due to unexpected workflow task failure."
    detail = AnyProto()
    detail.Pack(WorkflowNotReadyFailure())
    status = GrpcStatus(code=RPCStatusCode.FAILED_PRECONDITION, message=message, details=[detail])
    return RPCError(message, RPCStatusCode.FAILED_PRECONDITION, status.SerializeToString())


class _RefusingHandle:
    """A workflow handle whose update calls are refused `refusals` times, then applied."""

    def __init__(self, refusals: int) -> None:
        self.refusals, self.calls = refusals, 0

    async def execute_update(self, name, envelope, result_type):
        self.calls += 1
        if self.calls <= self.refusals:
            raise _task_refused_error()
        return EventOutcome(case_id=envelope.event.case_id, event_id=envelope.event.event_id, stage="protection",
                            duplicate=False)

    async def describe(self, *args, **kwargs):
        return SimpleNamespace(raw_description=DescribeWorkflowExecutionResponse())  # no task pending: not stuck


class _RefusingCases(Cases):
    def __init__(self, refusals: int) -> None:
        super().__init__(client=None, task_queue="sinergi", policy=lambda: None)  # type: ignore[arg-type]
        self.the_handle = _RefusingHandle(refusals)

    def handle(self, case_id: str):
        return self.the_handle


async def test_an_event_whose_workflow_task_the_server_refused_is_sent_again() -> None:
    cases = _RefusingCases(refusals=UPDATE_ATTEMPTS - 1)
    outcome = await cases.send(event("KALSEL-2026-X", "consent.recorded", scope="services"))
    assert (outcome.case_id, outcome.duplicate) == ("KALSEL-2026-X", False)
    assert cases.the_handle.calls == UPDATE_ATTEMPTS


async def test_an_event_refused_every_time_is_a_busy_case_to_retry_later() -> None:
    cases = _RefusingCases(refusals=UPDATE_ATTEMPTS)
    with pytest.raises(CaseBusy, match="KALSEL-2026-X could not take the event: Unable to perform"):
        await cases.send(event("KALSEL-2026-X", "consent.recorded", scope="services"))
    assert cases.the_handle.calls == UPDATE_ATTEMPTS


def test_only_workflow_not_ready_counts_as_a_refused_task() -> None:
    assert _task_refused(_task_refused_error())
    assert not _task_refused(RPCError("precondition", RPCStatusCode.FAILED_PRECONDITION, b""))
    assert not _task_refused(RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b""))


class _NotRunningHandle:
    """A case the server found no running workflow for: `status` None (no such case), or its status."""

    def __init__(self, status: WorkflowExecutionStatus | None, applied: EventOutcome | None = None) -> None:
        self._status, self._applied = status, applied

    async def execute_update(self, *args, **kwargs):
        raise RPCError("workflow update was aborted by closing workflow", RPCStatusCode.NOT_FOUND, b"")

    async def describe(self, rpc_timeout=None):
        if self._status is None:
            raise RPCError("workflow not found", RPCStatusCode.NOT_FOUND, b"")
        return SimpleNamespace(raw_description=DescribeWorkflowExecutionResponse(),
                               status=self._status, typed_search_attributes=TypedSearchAttributes([
            SearchAttributePair(CASE_PROVINCE, "Kalimantan Selatan"),
            SearchAttributePair(CASE_AGENCIES, ["ppa-kalsel"])]))

    async def query(self, *args, **kwargs):
        return self._applied


def _cases_over(handle) -> Cases:
    cases = Cases(client=None, task_queue="sinergi", policy=lambda: None)  # type: ignore[arg-type]
    cases.handle = lambda case_id: handle  # type: ignore[method-assign]
    return cases


async def test_an_event_for_no_running_case_is_told_what_the_server_knows_of_the_case() -> None:
    closing = event("KALSEL-2026-X", "case.closed", event_id="ppa-close-1", reason="victim returned home")
    with pytest.raises(CaseNotFound, match="no case KALSEL-2026-X"):
        await _cases_over(_NotRunningHandle(None)).send(closing)
    with pytest.raises(EventRefused, match="case.closed refused: the case is closed"):
        await _cases_over(_NotRunningHandle(WorkflowExecutionStatus.COMPLETED)).send(closing)
    applied = EventOutcome(case_id="KALSEL-2026-X", event_id="ppa-close-1", stage="closed", duplicate=True)
    assert await _cases_over(_NotRunningHandle(WorkflowExecutionStatus.COMPLETED, applied)).send(closing) == applied
    # An office outside the finished case learns nothing of it, not even that it closed.
    outsider = Sender(office="ppa-jatim", provinces=("Jawa Timur",))
    with pytest.raises(NotAParty, match="office ppa-jatim is not part of case KALSEL-2026-X"):
        await _cases_over(_NotRunningHandle(WorkflowExecutionStatus.TERMINATED)).send(closing, sender=outsider)
    # Still running, yet no run took the update: busy, send it again.
    with pytest.raises(CaseBusy, match="could not take the event: workflow update was aborted"):
        await _cases_over(_NotRunningHandle(WorkflowExecutionStatus.RUNNING)).send(closing)
