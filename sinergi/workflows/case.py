"""`CaseWorkflow`: one durable workflow per victim, id `case-<case id>`.

The lifecycle rules live in `sinergi.domain`; this class only carries out their effects: durable
timers for clocks and escalation ladders, activities for deliveries and notices, search attributes and
UI details. Events enter as an update with a validator, so a refused event never reaches history.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from sinergi.domain import authority, clocks, delivery, lifecycle, limits, record, routing, views
    from sinergi.domain.agency_kinds import AGENCY_KINDS
    from sinergi.domain.case import CLOSED_REFERRAL, OPEN_REFERRAL, RULES_VERSION, CaseInput, CaseState, Delivery
    from sinergi.domain.effects import (
        Deliver,
        Effect,
        FindLead,
        Notice,
        SendNotice,
        StartClock,
        StartContactSearch,
    )
    from sinergi.domain.events import EventEnvelope
    from sinergi.domain.intake import shareable_fields
    from sinergi.domain.sharing import may_share, payload_for
    from sinergi.workflows import messages as m
    from sinergi.workflows.messages import DeliveryRequest, Dispatch, NoticeReceipt, RouteRequest, RouteResult
    from sinergi.workflows.observe import CaseObserver

PATCH_RESTRICT_WITHDRAWN_DELIVERY = "restrict-withdrawn-delivery"
PATCH_PUBLISH_ROUTED_OFFICE = "publish-routed-office"
# Routing is a lookup in the worker's registry: a local activity, answered inside the workflow task that
# asked, instead of an activity of its own (a task queue round trip and one workflow task per referral).
# Decided once per run, as it starts, so no patch marker is ever recorded after a local activity's marker;
# a run that began on older code keeps routing through the activity, and `publish-routed-office` and
# `restrict-withdrawn-delivery` (both older than this) are simply in force in a run that routes locally.
PATCH_ROUTE_LOCALLY = "route-locally"
# Where agency calls run is the deployment's choice (sinergi.activities.agencies.AgencyActivities): the
# case's own queue, so the server hands each call to the worker with the workflow task that scheduled it,
# or one queue per agency kind when a rate limit is set. Asked once per run, as it starts, by a local
# activity (its answer is recorded, so a replay takes the same queues); runs begun before the question
# existed keep the per-kind queues they used.
PATCH_ASK_DISPATCH = "ask-agency-dispatch"
# A notice (an escalation rung, a restriction) is tried first as a local activity, inside the workflow task
# that decided it: no activity task, no workflow task of its own when it completes, one marker in history
# instead of three events. An agency that does not take it within NOTICE_LOCAL_TIMEOUT (down, slow, its
# bulkhead full) gets it as an activity with the delivery retries, under the same idempotency key
# (`notice_id`), so the office acts on it once. Not with per-kind queues: a rate-limited agency's notices
# keep to its queue. Decided in `__init__`, before any local activity's marker; runs begun before send every
# notice as an activity.
PATCH_NOTICES_LOCALLY = "notices-locally"
# No local activities at all, for runs begun from here on: routing, the dispatch question, notices and the lead's
# office are activities on the case's own queue. Under load the SDK (temporalio 1.35) can record a local
# activity's marker in a workflow task whose completion goes out before the workflow code has seen its result;
# the code then sees it in the next task, after any update that task brings, while a replay hands it over at
# its marker, before that update. The replay's commands then come in another order and the case fails every
# workflow task from then on ("UpsertWorkflowSearchAttributesMachine / Activity machine does not handle ...
# WorkflowExecutionUpdateAccepted": 1 case in 50 in bench/mixed_offices.py, bench/RESULTS.md §9). An activity's
# result is an event of its own, applied where it stands in history, live and in replay alike. Decided first in
# `__init__`; runs begun before keep the local activities they recorded.
PATCH_NO_LOCAL_ACTIVITIES = "no-local-activities"
# The case record (SPEC "The case record and reports"): the run tells the record each fact as it happens, in
# batches, by the `record_facts` activity; each fact is kept once however often it is written. Before the run
# continues as new or ends, what it has to tell is told. Runs begun before record nothing as they go (`sinergi
# admin records backfill` writes what their state holds).
PATCH_CASE_RECORD = "case-record"
RECORD_BATCH = 200
# What is new waits this long (or for a full batch) before it is sent: one activity per burst of events, not one
# per event. Reports read the record; a minute behind the case is soon enough. Before continuing as new or
# ending, a run sends at once.
RECORD_DELAY = timedelta(seconds=30)
RECORD_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))
NOTICE_LOCAL_TIMEOUT = timedelta(seconds=2)
NOTICE_LOCAL_RETRY = RetryPolicy(maximum_attempts=1)
# Activity options are not part of a history's commands: changing them needs no patch. Routing is a
# lookup in the worker's memory; an agency call heartbeats after 2 s (sinergi.activities.agencies), so a
# worker killed mid-call delays its retry by the heartbeat timeout, not by the whole call's.
ROUTE_TIMEOUT = timedelta(seconds=5)
CALL_TIMEOUT = timedelta(seconds=30)
HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# Agencies can be down for days: keep retrying, never give up on a referral (degraded mode opens a
# manual task meanwhile). Only a permanent rejection stops the retries.
DELIVERY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                             maximum_interval=timedelta(minutes=5),
                             non_retryable_error_types=[m.Errors.AGENCY_REJECTED])


def agency_task_queue(base: str, kind: str) -> str:
    """One task queue per agency kind, so a slow or down agency never delays another."""
    return f"{base}-agency-{kind}"


@workflow.defn(name="CaseWorkflow")
class CaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        self._case = case
        self._policy = case.policy
        self._pending: list[Effect] = []
        if case.state is not None:
            self._state: CaseState = case.state
        else:
            self._state, self._pending = lifecycle.open_case(case, workflow.now(), _rules_version())
        # What the size guard reads (`limits.STATE_SOFT_MAX_BYTES`); measured again after every event.
        self._size = limits.state_bytes(self._state)
        self._deliveries: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._published: dict[str, object] = {}
        self._observer = CaseObserver(case.state)
        # Here, not in `run`: an update can reach the case before `run` first steps.
        self._no_local = workflow.patched(PATCH_NO_LOCAL_ACTIVITIES)
        self._recorder = record.Recorder(case.state, case.policy) if workflow.patched(PATCH_CASE_RECORD) else None
        self._to_record: list[record.Fact] = []
        self._recording = False
        self._record_now = False
        if self._recorder is not None and case.state is None:
            self._to_record.append(record.opened(self._state, case.intake))
        self._route_locally = not self._no_local and workflow.patched(PATCH_ROUTE_LOCALLY)
        self._ask_dispatch = self._no_local or workflow.patched(PATCH_ASK_DISPATCH)
        self._notices_locally = not self._no_local and self._ask_dispatch and workflow.patched(PATCH_NOTICES_LOCALLY)
        # None until the run's question is answered; deliveries started meanwhile wait for it.
        self._per_kind_queues: bool | None = None if self._ask_dispatch else True

    # --- run ---------------------------------------------------------------------------------------

    @workflow.run
    async def run(self, case: CaseInput) -> m.CaseResult:
        if self._ask_dispatch:
            ask = workflow.execute_activity if self._no_local else workflow.execute_local_activity
            dispatch = await ask(m.DISPATCH_ACTIVITY, result_type=Dispatch, start_to_close_timeout=ROUTE_TIMEOUT,
                                 summary="Ask the worker where agency calls run")
            self._per_kind_queues = dispatch.per_kind_queues
        if self._recorder is not None:
            self._spawn(self._keep_record())
        if case.state is None:
            self._execute(self._pending)
        else:
            self._resume()
        self._publish()
        while True:
            await workflow.wait_condition(lambda: self._finished() or workflow.info().is_continue_as_new_suggested())
            # Handlers first: an update in flight must finish before the run ends or continues.
            await workflow.wait_condition(workflow.all_handlers_finished)
            if self._finished():
                break
            if workflow.info().is_continue_as_new_suggested():
                await self._recorded()
                limits.compact(self._state)
                workflow.continue_as_new(m_input(self._case, self._state))
        await workflow.wait_condition(lambda: not self._state.outbox)
        if self._recorder is not None:
            # What the CLI reads of the case once Temporal's retention has deleted its history.
            self._to_record.append(self._last_views(workflow.now()))
            await self._recorded()
        return m.CaseResult(case_id=self._state.case_id, closure_reason=self._state.closure_reason,
                            stage=str(self._state.stage))

    def _finished(self) -> bool:
        # branch: legal_track, death; rule: T6, T21 — the workflow outlives the assistance for them
        s = self._state
        return s.closed and not s.legal_track_open and not any(c.state in clocks.LIVE for c in s.clocks.values())

    def _resume(self) -> None:
        """After continue-as-new: re-arm every live clock, undelivered referral and unsent notice."""
        s = self._state
        effects: list[Effect] = [StartClock(k) for k, c in s.clocks.items() if c.state in clocks.LIVE]
        effects += [Deliver(r.referral_id) for r in s.referrals.values() if r.status == "pending"]
        outbox, s.outbox = list(s.outbox), []
        effects += [SendNotice(n) for n in outbox]
        if "contact_lost" in s.pause_reasons:
            effects.append(StartContactSearch(workflow.now()))
        if s.lead_pending:  # a transfer's search for the new lead was cut short by continue-as-new
            effects.append(FindLead(authority.lead_kind(s)))
        self._execute(effects)

    # --- events ------------------------------------------------------------------------------------

    @workflow.update(name=m.APPLY_EVENT)
    async def apply_event(self, envelope: EventEnvelope) -> m.EventOutcome:
        # The SDK runs each update's validator and then its handler in one task, and this handler does not
        # await before it applies: no other update (a transfer, say) can change the case in between, so
        # the validator's checks (membership, stage) still hold here. Keep it that way.
        event, sender = envelope.event, envelope.sender
        seen = authority.already_applied(self._state, sender, event)
        if seen:
            # Two copies validated in the same task: the second is a duplicate, applied once.
            return self._outcome(event.event_id, duplicate=True)
        if seen is False:  # the same office's id twice in one task, with other content
            raise _reused(event, sender)
        # Who typed an office's event for it (`case event --as`), as the gateway verified: a note, never authority.
        entered_by = envelope.entered_by if sender is not None else None
        self._execute(lifecycle.apply(self._state, self._policy, event, workflow.now(), sender, entered_by,
                                      envelope.sent_at))
        if self._recorder is not None:
            self._to_record += record.event(self._state, event, sender, workflow.now(), entered_by)
        self._publish()
        return self._outcome(event.event_id, duplicate=False)

    @apply_event.validator
    def _validate_event(self, envelope: EventEnvelope) -> None:
        # A validator, so a refused or duplicate event never reaches history. It must not change state.
        # Validators are not run on replay: changing what they refuse needs no patch.
        event, sender, s = envelope.event, envelope.sender, self._state
        # Authority first (membership before anything): an office outside the case learns nothing of it,
        # not even a duplicate.
        try:
            authority.check(s, event, sender)
        except authority.Refused as refused:
            raise ApplicationError(refused.reason, type=m.AUTHORITY_ERRORS[refused.code], non_retryable=True) from None
        seen = authority.already_applied(s, sender, event)
        if seen:
            # The outcome rides along, so the caller answers "duplicate" without asking the case again.
            raise ApplicationError(f"event {event.event_id} was already applied",
                                   self._outcome(event.event_id, duplicate=True), type=m.Errors.DUPLICATE_EVENT,
                                   non_retryable=True)
        if seen is False:
            raise _reused(event, sender)
        try:
            if reason := authority.stale(s, sender, envelope.sent_at, workflow.now()):
                raise lifecycle.EventRefused(f"{event.type} refused: {reason}", lifecycle.accepted_now(s))
            # The limits, as the edges check them: a client that built its event without them is refused here.
            if reason := limits.refusal(event) or limits.occurred_at_refusal(event.occurred_at, workflow.now()):
                raise lifecycle.EventRefused(f"{event.type} refused: {reason}", lifecycle.accepted_now(s))
            if sender is not None and self._size > limits.STATE_SOFT_MAX_BYTES:
                # Bounded by construction: past this only operators (who can close or review it) add to it.
                raise lifecycle.EventRefused(f"{event.type} refused: the case has reached its size limit "
                                             "and takes events from operators only", [])
            lifecycle.check(self._state, event)
        except lifecycle.EventRefused as refused:
            raise ApplicationError(refused.reason, m.EventRefusal(reason=refused.reason, accepted=refused.accepted),
                                   type=m.Errors.EVENT_REFUSED, non_retryable=True) from None

    @workflow.query(name=m.STATUS)
    def status(self) -> views.CaseStatus:
        return views.status(self._state, self._policy)

    @workflow.query(name=m.TIMELINE)
    def timeline(self) -> views.CaseTimeline:
        return views.timeline(self._state)

    @workflow.query(name=m.APPLIED)
    def applied(self, question: m.AppliedQuestion) -> m.EventOutcome | None:
        """The outcome of an event this case applied, as its duplicate would be answered; None if never or
        with other content."""
        applied = authority.already_applied(self._state, question.sender, question.event)
        return self._outcome(question.event.event_id, duplicate=True) if applied else None

    def _outcome(self, event_id: str, *, duplicate: bool) -> m.EventOutcome:
        return m.EventOutcome(case_id=self._state.case_id, event_id=event_id, stage=self._state.stage,
                              duplicate=duplicate)

    @workflow.query(name=m.WHY)
    def why(self) -> views.CaseWhy:
        return views.why(self._state, self._policy)

    @workflow.query(name=m.RECORD)
    def record_facts(self) -> m.RecordBatch:
        """Every fact the state holds, for a back-fill of the case record (a query: no command, no patch); the
        last views too once the run has nothing left to do."""
        s = self._state
        facts = [record.opened(s, self._case.intake), *record.from_state(s, self._policy, with_stage=True)]
        if self._finished():
            facts.append(self._last_views(s.timeline[-1].at if s.timeline else s.opened_at))
        return m.RecordBatch(case_id=s.case_id, facts=facts)

    def _last_views(self, at) -> record.Fact:
        s = self._state
        return record.snapshot(s, {"status": views.status(s, self._policy).model_dump(mode="json"),
                                   "timeline": views.timeline(s).model_dump(mode="json"),
                                   "why": views.why(s, self._policy).model_dump(mode="json")}, at)

    # --- the referral page -------------------------------------------------------------------------
    # New handlers only: a query and an update leave no command in history when they are absent, so
    # histories recorded before them replay unchanged.

    @workflow.query(name=m.REFERRAL_PAGE)
    def referral_page(self, question: m.ReferralPageQuestion) -> m.ReferralPage | None:
        """The referral as its office may see it on the page; None if the case has no such referral for
        that office (the page then answers 404, as for a forged link)."""
        s = self._state
        referral = s.referrals.get(question.referral_id)
        office = question.office
        if referral is None or referral.office != office.id:
            return None
        consent_allows = may_share(s.consent, referral)
        # Open only: a closed referral's page still says what happened, but no longer shows the person.
        shareable = consent_allows and not s.closed and referral.status in OPEN_REFERRAL - {"held"}
        fields, names = payload_for(self._case.intake, office) if shareable else ({}, [])
        due = [c.due_at for c in s.clocks.values() if c.context == referral.referral_id and c.state in clocks.LIVE]
        return m.ReferralPage(case_id=s.case_id, referral_id=referral.referral_id, office=office.id,
                              service=referral.service, status=referral.status,
                              due_at=min(due) if due else referral.due_at, closed_at=referral.closed_at,
                              case_closed=s.closed, consent_allows=consent_allows, shareable=shareable,
                              fields=fields, field_names=names)

    @workflow.update(name=m.RECORD_PAGE_UNLOCK)
    def record_page_unlock(self, unlock: m.PageUnlock) -> None:
        """Who saw which fields of the victim, when, and how (SPEC: every unlock is recorded in the case)."""
        s = self._state
        s.deliveries.append(Delivery(office=unlock.office, purpose="page", ref=unlock.referral_id,
                                     fields=unlock.fields, at=unlock.at))
        s.note(unlock.at, "referral", f"referral {unlock.referral_id} opened on the referral page by {unlock.office}: "
               f"{len(unlock.fields)} fields", unlock.referral_id)
        self._publish()

    @record_page_unlock.validator
    def _validate_page_unlock(self, unlock: m.PageUnlock) -> None:
        # Only the office the referral was sent to: a page for another office's referral must not leave a
        # false record (nor learn, by its answer, that the referral exists).
        referral = self._state.referrals.get(unlock.referral_id)
        if referral is None or referral.office != unlock.office:
            raise ApplicationError(f"office {unlock.office} has no referral {unlock.referral_id} in this case",
                                   type=m.Errors.PAGE_UNLOCK_REFUSED, non_retryable=True)
        if self._size > limits.STATE_SOFT_MAX_BYTES:  # as for events: past this, nothing more from outside
            raise ApplicationError("the case has reached its size limit", type=m.Errors.PAGE_UNLOCK_REFUSED,
                                   non_retryable=True)
        # Field names, never values, and only intake fields: what a caller writes into the case stays bounded.
        known = shareable_fields()
        if len(unlock.fields) > len(known) or not set(unlock.fields) <= set(known):
            raise ApplicationError("page unlock names fields that are not intake fields",
                                   type=m.Errors.PAGE_UNLOCK_REFUSED, non_retryable=True)

    # --- effects -----------------------------------------------------------------------------------

    def _execute(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, StartClock):
                self._spawn(self._run_clock(effect.key))
            elif isinstance(effect, Deliver):
                if effect.referral_id not in self._deliveries or self._deliveries[effect.referral_id].done():
                    self._deliveries[effect.referral_id] = asyncio.create_task(self._deliver(effect.referral_id))
            elif isinstance(effect, SendNotice):
                self._state.outbox.append(effect.notice)
                self._spawn(self._send_notice(effect.notice))
            elif isinstance(effect, StartContactSearch):
                self._spawn(self._contact_search())
            elif isinstance(effect, FindLead):
                self._spawn(self._find_lead(effect.kind))
            # StopDelivery needs no action here: the delivery coroutine watches its referral's status.

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _changed(self, effects: list[Effect]) -> None:
        self._execute(effects)
        self._publish()

    async def _run_clock(self, key: str) -> None:
        clock = self._state.clocks[key]
        rule = self._policy.clock(clock.clock_id)
        while True:
            generation = clock.generation
            if clock.state == "paused":
                await workflow.wait_condition(lambda g=generation: clock.generation != g or clock.state != "paused")
            elif clock.state == "running":
                if await self._wait_until(clock.due_at, lambda g=generation: clock.state != "running" or
                                          clock.generation != g, clocks.summary(self._policy, clock)):
                    self._changed(clocks.expired(self._state, self._policy, key, workflow.now()))
            elif clock.state == "breached":
                step = clocks.next_rung_due(self._policy, clock)
                if step is None:
                    return
                _, rung, due = step
                summary = f"{rule.id} {rule.source}: escalate to {rung.role}"
                if await self._wait_until(due, lambda: clock.state != "breached", summary):
                    self._changed(clocks.escalate(self._state, self._policy, key, workflow.now()))
            else:
                return

    async def _wait_until(self, due, interrupted, summary: str) -> bool:
        """Sleep durably until `due`; False if `interrupted()` became true first."""
        remaining = (due - workflow.now()).total_seconds()
        if remaining > 0:
            try:
                await workflow.wait_condition(interrupted, timeout=remaining, timeout_summary=summary)
                return False
            except TimeoutError:
                pass
        return not interrupted()

    async def _deliver(self, referral_id: str) -> None:
        s = self._state
        referral = s.referrals[referral_id]
        what = routing.describe(referral.service)
        request = RouteRequest(kind=referral.kind, province=s.province, regency=s.regency,
                               country=self._case.intake.situation.location_country if s.facts.abroad else None)
        summary = f"Find the {AGENCY_KINDS.get(referral.kind, referral.kind)} office for {what}"
        execute = workflow.execute_local_activity if self._route_locally else workflow.execute_activity
        route = await execute(m.ROUTE_ACTIVITY, request, result_type=RouteResult, start_to_close_timeout=ROUTE_TIMEOUT,
                              summary=summary)
        if referral.status != "pending":
            return
        if route.office is None:
            self._changed(delivery.unroutable(s, referral_id, workflow.now()))
            return
        delivery.routed(s, referral_id, route.office)
        if self._route_locally or workflow.patched(PATCH_PUBLISH_ROUTED_OFFICE):
            # The office may answer the instant the referral lands: publish it (CaseAgencies, what the UI and
            # `case list` show) before the delivery starts, not after it completes.
            self._publish()
        due = next((c.due_at for c in s.clocks.values() if c.state in clocks.LIVE and c.responsible == referral.kind),
                   None)
        # A delivery withdrawn in flight (consent withdrawn, case closed or transferred) may already have
        # reached the office: it is told to restrict the data either way (patched: older histories did not).
        restrict = self._route_locally or workflow.patched(PATCH_RESTRICT_WITHDRAWN_DELIVERY)
        handle = workflow.start_activity(
            m.DELIVER_REFERRAL_ACTIVITY,
            DeliveryRequest(referral_id=referral_id, case_id=s.case_id, office=route.office, service=referral.service,
                            stage=str(referral.stage), due_by=due, mandated_by=referral.mandated_by,
                            intake=self._case.intake),
            result_type=delivery.DeliveryReceipt,
            task_queue=await self._agency_queue(referral.kind),
            start_to_close_timeout=CALL_TIMEOUT, heartbeat_timeout=HEARTBEAT_TIMEOUT, retry_policy=DELIVERY_RETRY,
            summary=f"Referral to {route.office_name}: {what}")
        # Only a withdrawal stops a delivery under way; a referral answered meanwhile (a screening outcome
        # entered by an operator) still lands, so who received what stays on record.
        withdrawn = lambda: referral.status in ("held", "cancelled")  # noqa: E731 - a one-line predicate, read beside its use
        try:
            await workflow.wait_condition(lambda: handle.done() or withdrawn(), timeout=route.response_seconds,
                                          timeout_summary=f"{route.office_name}: agreed response time for {what}")
        except TimeoutError:
            # Degraded mode: the office stayed unreachable past its agreed response time.
            self._changed(delivery.unreachable(s, referral_id, route.office, "no delivery within its response time",
                                               workflow.now()))
            await workflow.wait_condition(lambda: handle.done() or withdrawn())
        if not handle.done():
            # Not waiting for the cancellation to settle: an agency down for days must not hold the case.
            handle.cancel()
            if restrict:
                self._changed(delivery.withdrawn_in_flight(s, referral_id, route.office, workflow.now()))
            return
        try:
            receipt = await handle
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == m.Errors.AGENCY_REJECTED:
                self._changed(delivery.rejected(s, referral_id, route.office, cause.message, workflow.now()))
                return
            raise
        self._changed(delivery.delivered(s, self._policy, referral_id, receipt, workflow.now()))

    async def _agency_queue(self, kind: str | None) -> str | None:
        """The task queue of a call to a `kind` agency; None: the case's own."""
        if self._per_kind_queues is None:
            await workflow.wait_condition(lambda: self._per_kind_queues is not None)
        return agency_task_queue(workflow.info().task_queue, kind) if kind and self._per_kind_queues else None

    async def _send_notice(self, notice: Notice) -> None:
        try:
            queue = await self._agency_queue(notice.kind)
            receipt = None
            if self._notices_locally and not self._per_kind_queues:
                receipt = await self._notice_at_once(notice)
            if receipt is None:
                receipt = await workflow.execute_activity(
                    m.DELIVER_NOTICE_ACTIVITY, notice, result_type=NoticeReceipt, task_queue=queue,
                    start_to_close_timeout=CALL_TIMEOUT, heartbeat_timeout=HEARTBEAT_TIMEOUT,
                    retry_policy=DELIVERY_RETRY, summary=_notice_summary(notice))
            text = (f"notice {notice.notice_id} ({notice.purpose}) delivered to {receipt.office}" if receipt.office
                    else f"notice {notice.notice_id} undeliverable: {receipt.undeliverable}")
            if receipt.office:
                authority.notified(self._state, receipt.office)  # it now knows of the case: a party
                if self._recorder is not None:
                    self._to_record.append(record.notice(self._state, notice, receipt.office, workflow.now()))
        except (ActivityError, ApplicationError) as err:
            text = f"notice {notice.notice_id} ({notice.purpose}) refused: {err.cause or err}"
        self._state.note(workflow.now(), "notice", text, notice.notice_id)
        self._state.outbox = [n for n in self._state.outbox if n.notice_id != notice.notice_id]

    async def _notice_at_once(self, notice: Notice) -> NoticeReceipt | None:
        """One try as a local activity; None when it did not go through (the activity takes over)."""
        try:
            return await workflow.execute_local_activity(
                m.DELIVER_NOTICE_ACTIVITY, notice, result_type=NoticeReceipt, retry_policy=NOTICE_LOCAL_RETRY,
                # From scheduled, not started: a worker whose local slots are all taken hands it on too.
                schedule_to_close_timeout=NOTICE_LOCAL_TIMEOUT, summary=_notice_summary(notice))
        except FailureError as err:
            # The agency's own error comes bare (an ApplicationError); a timeout comes as an ActivityError
            # around a TimeoutError, or bare when replayed: every one of them hands the notice on.
            cause = err.cause if isinstance(err, ActivityError) else err
            if isinstance(cause, ApplicationError) and cause.type == m.Errors.AGENCY_REJECTED:
                raise  # a refusal is final, as it is for the activity
            return None

    async def _find_lead(self, kind: str) -> None:
        """After a transfer: the new place's office of the lead kind leads the case (rules v4)."""
        s = self._state
        request = RouteRequest(kind=kind, province=s.province, regency=s.regency,
                               country=self._case.intake.situation.location_country if s.facts.abroad else None)
        find = workflow.execute_activity if self._no_local else workflow.execute_local_activity
        route = await find(m.ROUTE_ACTIVITY, request, result_type=RouteResult, start_to_close_timeout=ROUTE_TIMEOUT,
                           summary=f"Find the {AGENCY_KINDS.get(kind, kind)} office that leads the case")
        authority.found_lead(s, route.office)
        s.note(workflow.now(), "stage", f"lead office: {route.office}" if route.office else
               f"no {kind} office covers {s.province}/{s.regency or '-'}: operators decide for the case")
        self._publish()

    async def _keep_record(self) -> None:
        """Tell the case record what is new, in batches, for as long as the run lasts."""
        while True:
            await workflow.wait_condition(lambda: bool(self._to_record))
            if len(self._to_record) < RECORD_BATCH and not self._record_now:
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(lambda: len(self._to_record) >= RECORD_BATCH or self._record_now,
                                                  timeout=RECORD_DELAY, timeout_summary="Gather the record's facts")
            batch = self._to_record[:RECORD_BATCH]
            self._recording = True
            try:
                await workflow.execute_activity(
                    m.RECORD_FACTS_ACTIVITY, m.RecordBatch(case_id=self._state.case_id, facts=batch),
                    start_to_close_timeout=CALL_TIMEOUT, retry_policy=RECORD_RETRY,
                    summary=f"Record {len(batch)} fact(s) of the case")
            except ActivityError as err:
                # Only a fact the record cannot take ends here (a bug): said loudly, and the run goes on.
                workflow.logger.error("case_record_refused", extra={"facts": len(batch), "error": str(err.cause)})
            finally:
                self._recording = False
            del self._to_record[:len(batch)]

    async def _recorded(self) -> None:
        """Until the record has been told everything so far."""
        if self._recorder is not None:
            self._record_now = True
            await workflow.wait_condition(lambda: not self._to_record and not self._recording)
            self._record_now = False

    async def _contact_search(self) -> None:
        # branch: contact_lost
        s = self._state
        rule = self._policy.contact_lost
        while "contact_lost" in s.pause_reasons and not s.closed:
            try:
                await workflow.wait_condition(lambda: "contact_lost" not in s.pause_reasons or s.closed,
                                              timeout=rule.attempt_seconds,
                                              timeout_summary=f"Contact lost: attempt {s.contact_attempts + 1} of "
                                                              f"{rule.max_attempts} to re-establish contact")
            except TimeoutError:
                self._changed(lifecycle.contact_attempt_failed(s, self._policy, workflow.now()))

    # --- visibility --------------------------------------------------------------------------------

    def _publish(self) -> None:
        """Keep search attributes, the UI's current details, log lines and counters in step with the case.
        No personal data in any of them."""
        s = self._state
        for referral in s.referrals.values():
            # When it closed, for the referral page's 30 days: stamped here, where every change passes, rather
            # than in each rule that closes one. Workflow time, so a replay stamps the same instant.
            if referral.status in CLOSED_REFERRAL and referral.closed_at is None:
                referral.closed_at = workflow.now()
        values = {"stage": str(s.stage), "regency": s.regency or "", "province": s.province,
                  "agencies": s.agencies(), "escalated": s.escalated}
        updates = []
        keys = {"stage": m.CASE_STAGE, "regency": m.CASE_REGENCY, "province": m.CASE_PROVINCE,
                "agencies": m.CASE_AGENCIES, "escalated": m.CASE_ESCALATED}
        for name, value in values.items():
            if self._published.get(name) != value:
                self._published[name] = value
                updates.append(keys[name].value_set(value))
        if updates:
            workflow.upsert_search_attributes(updates)
        workflow.set_current_details(views.details(s, self._policy))
        self._observer.changed(s)
        if self._recorder is not None:
            self._to_record += self._recorder.changed(s, workflow.now())
        # After the observer and the recorder have seen what is new: what compaction drops was already told.
        if limits.compact(s):
            self._observer.rebase(s)
            if self._recorder is not None:
                self._recorder.rebase(s)
        self._size = limits.state_bytes(s)


def _reused(event, sender) -> ApplicationError:
    return ApplicationError(f"event id {event.event_id} was already used by {authority.sending_office(sender)} for an "
                            "event with other content: use a new event id", type=m.Errors.EVENT_ID_REUSED,
                            non_retryable=True)


def _notice_summary(notice: Notice) -> str:
    """`Escalation notice to Anti-trafficking task force (...), province: T1 UU 21/2007 Art. 52(1)`."""
    to = notice.office or f"{AGENCY_KINDS.get(notice.kind or '', notice.kind)}, {notice.level}"
    rule = f": {notice.clock} {notice.source}" if notice.clock else ""
    return f"{notice.purpose.replace('_', ' ').capitalize()} notice to {to}{rule}"


def _rules_version() -> int:
    """The newest rules version this history allows: a new case records a marker for the current one; a
    replayed case that opened before a version existed has no marker and keeps the rules it opened with."""
    for version in range(RULES_VERSION, 1, -1):
        if workflow.patched(f"rules-v{version}"):
            return version
    return 1


def m_input(case: CaseInput, state: CaseState) -> CaseInput:
    return CaseInput(case_id=case.case_id, intake=case.intake, policy=case.policy, state=state)
