"""Client-side operations on cases, shared by the CLI, the gateway and tests.

Temporal errors are translated here, once, into this small tree::

    CaseError
    ├── CaseNotFound        no case with that id
    ├── CaseExists          a case with that id was already opened
    ├── EventRefused        the case refused the event (reason, event types accepted now)
    ├── EventIdReused       the sending office used this event id before, for other content
    ├── NotAParty           the sending office is not part of the case
    ├── NotAllowed          the office is part of it, but may not send this (its agreement, the lead's decision)
    └── ServiceUnavailable  Temporal cannot be reached, or did not answer in time
        └── CaseBusy        the case did not answer in time (busy case or busy server): ask again
            └── CaseStuck   the case cannot make progress: its workflow task keeps failing
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryReverseRequest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from sinergi.domain.ids import new_case_id, workflow_id

# The answers' models alone, and the wire's names: a question to a case (`case status`) loads neither the
# lifecycle nor the event models; `send` and `open` import those where they need them (bench/RESULTS.md §11).
from sinergi.domain.view_models import CaseStatus, CaseTimeline, CaseWhy
from sinergi.platform.logs import get_logger
from sinergi.platform.remote_codec import set_workflow
from sinergi.workflows import names as m

if TYPE_CHECKING:
    from sinergi.domain.events import Event, Sender
    from sinergi.domain.intake import Intake
    from sinergi.domain.policy import Policy
    from sinergi.workflows.messages import EventOutcome, PageUnlock, ReferralPage, ReferralPageQuestion

log = get_logger("sinergi.cases")  # structlog imported when it first logs


class CaseError(Exception):
    """Base of client-side case errors."""


class CaseNotFound(CaseError):
    pass


class CaseExists(CaseError):
    pass


class EventRefused(CaseError):
    def __init__(self, reason: str, accepted: list[str]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.accepted = accepted


class NotAParty(CaseError):
    pass


class NotAllowed(CaseError):
    pass


class EventIdReused(CaseError):
    pass


class ServiceUnavailable(CaseError):
    pass


class CaseBusy(ServiceUnavailable):
    """The case did not answer, or could not take the event, now: a read found a workflow task pending
    longer than it waits (`Cases._settled`), an event's update call reached its deadline (the case, or
    the server, too busy to answer), or the server refused every workflow task that carried the event
    (`_task_refused`). Nothing was lost; the same request again (an event under the same id) is safe.

    `may_still_apply`: whether the event may yet be applied after this answer (the update call ended
    without an answer: the server may still deliver it) or certainly was not (the server refused it)."""

    def __init__(self, message: str, *, may_still_apply: bool = True) -> None:
        super().__init__(message)
        self.may_still_apply = may_still_apply


class CaseStuck(CaseBusy):
    """The case cannot make progress: its workflow task failed again and again (a bug, a history the code
    cannot replay, a payload over the server's limit). It takes no event and answers no question until an
    engineer fixes it; nothing is lost meanwhile (events sent keep their ids; the history keeps the rest)."""


class CaseSummary(BaseModel):
    """SPEC: one row of `case list --json`."""

    case_id: str
    stage: str
    province: str
    regency: str | None = None
    opened_at: datetime | None
    escalated: bool
    open: bool


@dataclass(frozen=True)
class OpenedCase:
    case_id: str
    workflow_id: str


@dataclass(frozen=True)
class CaseParties:
    """Where a case is and which offices it was referred to (offices and agency kinds, as published)."""

    case_id: str
    province: str
    regency: str | None
    agencies: tuple[str, ...]
    open: bool


# How long a read waits for the case's pending workflow task before answering "busy, ask again".
QUERY_SETTLE_SECONDS = 15.0


# How many times an event is sent when the server refused the workflow task that carried it (`_task_refused`).
UPDATE_ATTEMPTS = 3


def _task_refused(err: RPCError) -> bool:
    """The server refused the workflow task that carried the update, and aborted the update with it
    ("unexpected workflow task failure"): typically the task finished the case while new history events
    waited (an agency's answer, a clock), which the server answers UNHANDLED_COMMAND. The server aborts
    so only an update its worker had been sent and not yet accepted (temporal server, update
    `AbortReasonWorkflowTaskFailed`): the event was not applied. Sending it again is exact — and were
    it ever applied, the case's own check of event ids would answer the new try as a duplicate."""
    return err.status == RPCStatusCode.FAILED_PRECONDITION and any(
        detail.Is(WorkflowNotReadyFailure.DESCRIPTOR) for detail in err.grpc_status.details)


def _could_not_take(event: Event, err: RPCError) -> CaseBusy:
    return CaseBusy(f"case {event.case_id} could not take the event: {err.message}", may_still_apply=False)


# A workflow task that failed this many times in a row is no passing fault (a worker restart, a refused
# task retried once): the case is stuck until someone fixes it.
STUCK_ATTEMPTS = 3


def _translate(err: RPCError, case_id: str) -> CaseError:
    if err.status == RPCStatusCode.NOT_FOUND:
        return CaseNotFound(f"no case {case_id}")
    if err.status == RPCStatusCode.DEADLINE_EXCEEDED:
        return ServiceUnavailable(f"Temporal did not answer in time: {err.message}")
    if err.status == RPCStatusCode.UNAVAILABLE:
        return ServiceUnavailable(f"Temporal is unreachable: {err.message}")
    return CaseError(f"Temporal refused the request: {err.message}")


class Cases:
    """Operations on case workflows through one Temporal client."""

    def __init__(self, client: Client, task_queue: str, policy: Policy | Callable[[], Policy],
                 clock: Callable[[], Awaitable[datetime]] | None = None) -> None:
        """`policy` is the one new cases open under, or how to load it when the first case opens (a CLI
        command that opens nothing never reads the policy file nor resolves its days off). `clock`: the time
        each event is sealed at (`EventEnvelope.sent_at`), this machine's unless given (a time-skipping test
        server's virtual time, `sinergi.testing.cases`)."""
        self.client = client
        self.task_queue = task_queue
        self._policy = policy
        self._clock = clock

    @property
    def policy(self) -> Policy:
        if callable(self._policy):
            self._policy = self._policy()
        return self._policy

    def handle(self, case_id: str) -> WorkflowHandle:
        workflow = workflow_id(case_id)
        # A client coding through the gateway (`[codec] endpoint`) names the case each decode is audited under.
        set_workflow(workflow)
        return self.client.get_workflow_handle(workflow)

    async def open(self, intake: Intake, case_id: str | None = None) -> OpenedCase:
        # The workflow's own module (the whole lifecycle) only where a case starts: a read needs none of it.
        from sinergi.domain.case import CaseInput
        from sinergi.workflows.case import CaseWorkflow

        case_id = case_id or new_case_id(intake.province, intake.received_at.year)
        attributes = TypedSearchAttributes([
            SearchAttributePair(m.CASE_ID, case_id), SearchAttributePair(m.CASE_STAGE, "identification"),
            SearchAttributePair(m.CASE_PROVINCE, intake.province),
            SearchAttributePair(m.CASE_REGENCY, intake.regency or ""),
            SearchAttributePair(m.CASE_CHILD, intake.is_child), SearchAttributePair(m.CASE_ESCALATED, False),
            SearchAttributePair(m.CASE_OPENED_AT, datetime.now(UTC)),  # the moment `status.opened_at` shows
            SearchAttributePair(m.CASE_AGENCIES, [intake.source.agency]),
        ])
        try:
            await self.client.start_workflow(
                CaseWorkflow.run, CaseInput(case_id=case_id, intake=intake, policy=self.policy),
                id=workflow_id(case_id), task_queue=self.task_queue, search_attributes=attributes,
                # A case id is never reused, even after the case closed: it is the victim's file number.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"Case {case_id} ({intake.province}, {intake.source.agency})",
            )
        except WorkflowAlreadyStartedError as exc:
            raise CaseExists(f"case {case_id} already exists") from exc
        except RPCError as exc:
            raise _translate(exc, case_id) from exc
        return OpenedCase(case_id=case_id, workflow_id=workflow_id(case_id))

    async def send(self, event: Event, sender: Sender | None = None, entered_by: str | None = None) -> EventOutcome:
        """Apply an event; a duplicate `event_id` comes back with `duplicate=True`.

        With a `sender` (an office), the case first checks that the office takes part in it
        (`NotAParty` if not): the case knows its referrals and jurisdiction exactly, so no lookup first.
        An event whose workflow task the server refused is sent again (`_task_refused`); one the server
        found no running case for is answered from what it knows of the case (`_not_running`). `entered_by`:
        the operator who enters an office's event on its behalf (`operator:<name>`).
        """
        try:
            return await self._send(event, sender, entered_by)
        except CaseBusy as busy:
            # Busy, or stuck? A stuck case says so, rather than "retry later" for ever.
            await self._check_not_stuck(event.case_id, may_still_apply=busy.may_still_apply)
            raise

    async def _send(self, event: Event, sender: Sender | None, entered_by: str | None = None) -> EventOutcome:
        for attempt in range(1, UPDATE_ATTEMPTS + 1):
            try:
                return await self._apply(event, sender, entered_by)
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return await self._not_running(event, sender, exc)
                if not _task_refused(exc):
                    raise _translate(exc, event.case_id) from exc
                if attempt == UPDATE_ATTEMPTS:
                    raise _could_not_take(event, exc) from exc
                # The task that carried it was refused and left nothing in history: the next one takes it.
                log.info("event_sent_again", case_id=event.case_id, event_id=event.event_id, attempt=attempt,
                         temporal=exc.message)
                await asyncio.sleep(0.05 * attempt)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _apply(self, event: Event, sender: Sender | None, entered_by: str | None = None) -> EventOutcome:
        from sinergi.domain.events import EventEnvelope
        from sinergi.workflows.messages import EventOutcome

        handle = self.handle(event.case_id)
        try:
            sent_at = await self._clock() if self._clock is not None else datetime.now(UTC)
            envelope = EventEnvelope(event=event, sender=sender, entered_by=entered_by if sender else None,
                                     sent_at=sent_at)
            return await handle.execute_update(m.APPLY_EVENT, envelope, result_type=EventOutcome)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == m.Errors.DUPLICATE_EVENT:
                if cause.details:  # the outcome, from workers since the duplicate carried it
                    return EventOutcome.model_validate(cause.details[0])
                status = await self.status(event.case_id)  # one more round trip through a worker
                return EventOutcome(case_id=event.case_id, event_id=event.event_id, stage=status.stage,
                                    duplicate=True)
            if isinstance(cause, ApplicationError) and cause.type == m.Errors.EVENT_REFUSED:
                details = cause.details[0] if cause.details else {}
                accepted = details.get("accepted", []) if isinstance(details, dict) else details.accepted
                raise EventRefused(cause.message, accepted) from exc
            if isinstance(cause, ApplicationError) and cause.type == m.Errors.NOT_A_PARTY:
                raise NotAParty(cause.message) from exc
            if isinstance(cause, ApplicationError) and cause.type == m.Errors.NOT_ALLOWED:
                raise NotAllowed(cause.message) from exc
            if isinstance(cause, ApplicationError) and cause.type == m.Errors.EVENT_ID_REUSED:
                raise EventIdReused(cause.message) from exc
            raise CaseError(f"the case failed to apply the event: {cause}") from exc
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            # The SDK raises this in place of the CancelledError when the caller's timeout cancels the
            # wait: give the cancellation back, or the caller's `asyncio.timeout` never hears of it.
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from exc
            raise CaseBusy(f"case {event.case_id} did not answer the event in time") from exc

    async def _not_running(self, event: Event, sender: Sender | None, exc: RPCError) -> EventOutcome:
        """The server found no running case for the event: none at all, or one that finished — before the
        event came, or in the very workflow task that had it waiting ("aborted by closing workflow")."""
        parties = await self.parties(event.case_id)  # CaseNotFound if there is no such case
        if parties.open:  # running, yet the update found no run to take it (say, lost in a hand-over)
            raise _could_not_take(event, exc) from exc
        # A finished case runs no validator: the server's record says whether the sending office is part
        # of it, so an office outside the case is refused as such and does not learn that it closed.
        if sender is not None and not sender.is_party(parties.agencies):
            raise NotAParty(f"office {sender.office} is not part of case {event.case_id}") from exc
        # An event sent again after it closed the case (its first answer lost, say, to a timeout)
        # is a duplicate, not a refusal: the finished case still answers what it applied.
        outcome = await self._applied(event, sender)
        if outcome is not None:
            return outcome
        raise EventRefused(f"{event.type} refused: the case is closed", []) from exc

    async def _applied(self, event: Event, sender: Sender | None) -> EventOutcome | None:
        from sinergi.workflows.messages import AppliedQuestion, EventOutcome

        try:
            return await self.handle(event.case_id).query(m.APPLIED, AppliedQuestion(event=event, sender=sender),
                                                          result_type=EventOutcome | None)  # type: ignore[arg-type] - a union is a type here
        except RPCError as exc:
            raise _translate(exc, event.case_id) from exc
        except WorkflowQueryFailedError:
            return None  # a worker older than the question (mid-upgrade): answered as before, refused

    async def _query(self, case_id: str, name: str, result_type: type):
        handle = self.handle(case_id)
        try:
            await self._settled(handle, case_id)
            return await handle.query(name, result_type=result_type)
        except RPCError as exc:
            raise _translate(exc, case_id) from exc
        except WorkflowQueryFailedError as exc:
            raise CaseError(f"case {case_id} could not answer: {exc}") from exc

    async def _settled(self, handle: WorkflowHandle, case_id: str) -> None:
        """Wait until no workflow task of the case is pending, so that a query can be asked safely.

        A query that reaches a worker no longer holding the case in memory, while the case has events no
        workflow task has taken yet (an agency call just completed), makes the SDK apply those events to
        answer it; the workflow task that follows, if it also carries an update, then records its
        commands in an order a replay of the history does not reproduce, and the case stops on a
        non-determinism error (temporalio 1.35; reproduced and explained in bench/RESULTS.md, "Queries
        and updates"). With no task pending there are no such events: the window shrinks from a
        workflow task's wait (seconds under load) to the milliseconds between the two calls.
        """
        deadline = asyncio.get_running_loop().time() + QUERY_SETTLE_SECONDS
        pause = 0.02
        while True:
            described = await handle.describe()
            if not described.raw_description.HasField("pending_workflow_task"):
                return
            await self._check_not_stuck(case_id, described)
            if asyncio.get_running_loop().time() + pause > deadline:
                raise CaseBusy(f"case {case_id} is busy applying its work; ask again in a moment")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)

    async def _check_not_stuck(self, case_id: str, described=None, *, may_still_apply: bool = True) -> None:
        """Raise `CaseStuck` if the case's workflow task has failed `STUCK_ATTEMPTS` times in a row."""
        handle = self.handle(case_id)
        try:
            described = described or await handle.describe()
        except RPCError:
            return  # the caller's own error says what went wrong
        pending = described.raw_description.pending_workflow_task
        if not described.raw_description.HasField("pending_workflow_task") or pending.attempt < STUCK_ATTEMPTS:
            return
        cause = await self._last_task_failure(handle)
        since = pending.original_scheduled_time.ToDatetime(UTC).isoformat(timespec="seconds")
        log.error("case_stuck", case_id=case_id, attempts=pending.attempt, cause=cause)
        raise CaseStuck(f"case {case_id} cannot make progress: its workflow task has failed {pending.attempt} times "
                        f"since {since} ({cause}); events wait until an engineer fixes it (Temporal UI: workflow "
                        f"{handle.id}, its last WorkflowTaskFailed event)", may_still_apply=may_still_apply)

    async def _last_task_failure(self, handle: WorkflowHandle) -> str:
        """The cause of the case's last failed workflow task, by name only (its message may quote data)."""
        request = GetWorkflowExecutionHistoryReverseRequest(
            namespace=self.client.namespace, execution=WorkflowExecution(workflow_id=handle.id),
            maximum_page_size=50)
        try:
            page = await self.client.workflow_service.get_workflow_execution_history_reverse(request)
        except RPCError:
            return "cause unknown"
        for history_event in page.history.events:
            if history_event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                attributes = history_event.workflow_task_failed_event_attributes
                return WorkflowTaskFailedCause.Name(attributes.cause)
        return "cause unknown"

    async def status(self, case_id: str) -> CaseStatus:
        return await self._query(case_id, m.STATUS, CaseStatus)

    async def timeline(self, case_id: str) -> CaseTimeline:
        return await self._query(case_id, m.TIMELINE, CaseTimeline)

    async def why(self, case_id: str) -> CaseWhy:
        return await self._query(case_id, m.WHY, CaseWhy)

    async def referral_page(self, case_id: str, question: ReferralPageQuestion) -> ReferralPage | None:
        """The referral as its office may see it on the referral page; None: no such referral for that office."""
        from sinergi.workflows.messages import ReferralPage

        handle = self.handle(case_id)
        try:
            await self._settled(handle, case_id)
            return await handle.query(m.REFERRAL_PAGE, question,
                                      result_type=ReferralPage | None)  # type: ignore[arg-type] - a union is a type here
        except RPCError as exc:
            raise _translate(exc, case_id) from exc
        except WorkflowQueryFailedError as exc:
            raise CaseError(f"case {case_id} could not answer: {exc}") from exc

    async def record_page_unlock(self, case_id: str, unlock: PageUnlock) -> None:
        """Record in the case that an office opened a referral on its page (office, time, fields shown).

        `NotAParty` if the referral is not that office's; `CaseNotFound` when no running case takes it (a
        finished case records nothing more: the page then shows no personal data)."""
        try:
            await self.handle(case_id).execute_update(m.RECORD_PAGE_UNLOCK, unlock)
        except WorkflowUpdateFailedError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == m.Errors.PAGE_UNLOCK_REFUSED:
                raise NotAParty(cause.message) from exc
            raise CaseError(f"the case failed to record the page unlock: {cause}") from exc
        except WorkflowUpdateRPCTimeoutOrCancelledError as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from exc
            raise CaseBusy(f"case {case_id} did not record the page unlock in time") from exc
        except RPCError as exc:
            raise _translate(exc, case_id) from exc

    async def parties(self, case_id: str, timeout: timedelta | None = None) -> CaseParties:
        """Who takes part in the case, from its search attributes.

        Answered by the server alone (describe), not by a worker: several times cheaper than the
        `status` query.
        """
        try:
            description = await self.handle(case_id).describe(rpc_timeout=timeout)
        except RPCError as exc:
            raise _translate(exc, case_id) from exc
        attributes = description.typed_search_attributes
        return CaseParties(
            case_id=case_id, province=attributes.get(m.CASE_PROVINCE) or "",
            regency=attributes.get(m.CASE_REGENCY) or None,
            agencies=tuple(attributes.get(m.CASE_AGENCIES) or ()),
            open=description.status == WorkflowExecutionStatus.RUNNING,
        )

    async def list(self, query: str, limit: int = 200) -> list[CaseSummary]:
        """Cases matching a visibility query, newest first. Visibility lags writes by a second or two."""
        rows: list[CaseSummary] = []
        try:
            async for execution in self.client.list_workflows(query, limit=limit):
                attrs = execution.typed_search_attributes
                rows.append(CaseSummary(
                    case_id=attrs.get(m.CASE_ID) or execution.id.removeprefix("case-"),
                    stage=attrs.get(m.CASE_STAGE) or "?", province=attrs.get(m.CASE_PROVINCE) or "?",
                    regency=attrs.get(m.CASE_REGENCY) or None, opened_at=attrs.get(m.CASE_OPENED_AT),
                    escalated=bool(attrs.get(m.CASE_ESCALATED)),
                    open=execution.status == WorkflowExecutionStatus.RUNNING))
        except RPCError as exc:
            if exc.status == RPCStatusCode.INVALID_ARGUMENT:
                raise CaseError(f"the case list filter was refused: {exc.message}") from exc
            raise _translate(exc, "(list)") from exc
        return rows

    async def is_open(self, case_id: str) -> bool:
        return (await self.parties(case_id)).open
