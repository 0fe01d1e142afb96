"""Activities that reach agencies: route a referral, deliver it, deliver a notice.

All I/O of the case lifecycle lives here. Each call carries an idempotency key (`referral_id`,
`notice_id`) derived from case data, so a retry or a replay after a crash never reaches an agency twice
as two different messages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from sinergi.adapters.base import AgencyAdapter, AgencyRejected, AgencyUnavailable, NoticeMessage, ReferralMessage
from sinergi.domain.agencies import AgencyRegistry, Office
from sinergi.domain.delivery import DeliveryReceipt
from sinergi.domain.effects import Notice
from sinergi.domain.sharing import payload_for
from sinergi.platform.config import DEFAULT_AGENCY_CONCURRENCY
from sinergi.platform.logs import remember_person
from sinergi.platform.telemetry import annotate
from sinergi.workflows import messages as m
from sinergi.workflows.messages import DeliveryRequest, Dispatch, NoticeReceipt, RouteRequest, RouteResult

# How long a call waits for one of its kind's places before it gives its worker slot back and is retried.
BUSY_WAIT = 2.0


class AgencyActivities:
    """Bound activity methods sharing the registry and the process's adapters (one HTTP session).

    Where the calls run is the deployment's choice. By default on the case's own task queue: the server
    hands each call to the worker with the workflow task that scheduled it (eager dispatch, no poll, no
    matching), and a bulkhead keeps any one kind of agency to `concurrency` calls in flight per worker,
    so a slow or unreachable agency never holds the slots another agency's calls need. With a
    `rate_limit`, each kind's calls go to a task queue of its own, where the server enforces the rate
    across all workers and the backlog is visible per agency (`temporal task-queue describe`).
    """

    def __init__(self, registry: AgencyRegistry, adapters: dict[str, AgencyAdapter], callback_base_url: str, *,
                 rate_limit: float | None = None, concurrency: int = DEFAULT_AGENCY_CONCURRENCY,
                 record: Any | None = None) -> None:
        from sinergi.activities.record import RecordActivities

        # The case record the worker writes each case's facts to (`bootstrap.agency_activities` opens it).
        self.record = RecordActivities(record)
        self.registry = registry
        self.adapters = adapters
        self.callback_base_url = callback_base_url.rstrip("/")
        self.rate_limit = rate_limit
        self.concurrency = concurrency
        self._places: dict[str, asyncio.Semaphore] = {}

    def _adapter(self, office: Office) -> AgencyAdapter:
        try:
            return self.adapters[office.adapter]
        except KeyError:
            raise ApplicationError(f"office {office.id} uses adapter {office.adapter!r}, which is not installed",
                                   type=m.Errors.ADAPTER_MISSING) from None

    async def _call(self, office: Office, delivery: Coroutine[Any, Any, None]) -> None:
        """One agency call: a place among its kind's calls first, then the call with heartbeats."""
        places = self._places.setdefault(office.kind, asyncio.Semaphore(self.concurrency))
        try:
            await asyncio.wait_for(places.acquire(), BUSY_WAIT)
        except TimeoutError:
            delivery.close()
            raise ApplicationError(f"{self.concurrency} calls to {office.kind} offices are already in flight from "
                                   f"this worker; retried with backoff ([temporal] agency_concurrency)",
                                   type=m.Errors.AGENCY_BUSY) from None
        try:
            await _with_heartbeats(delivery)
        finally:
            places.release()

    @activity.defn(name=m.DISPATCH_ACTIVITY)
    async def dispatch(self) -> Dispatch:
        return Dispatch(per_kind_queues=self.rate_limit is not None)

    @activity.defn(name=m.ROUTE_ACTIVITY)
    async def route(self, request: RouteRequest) -> RouteResult:
        office = self.registry.route(request.kind, request.province, request.regency, country=request.country,
                                     level=request.level)
        if office is None:
            return RouteResult()
        return RouteResult(office=office.id, office_name=office.name, response_seconds=office.response_seconds)

    @activity.defn(name=m.DELIVER_REFERRAL_ACTIVITY)
    async def deliver_referral(self, request: DeliveryRequest) -> DeliveryReceipt:
        office = self.registry.offices.get(request.office)
        if office is None:
            raise ApplicationError(f"office {request.office} is no longer in the agency registry",
                                   type=m.Errors.AGENCY_REJECTED, non_retryable=True)
        person = request.intake.person
        # An agency's refusal may quote the person back: whatever logs it (the SDK does) redacts it.
        remember_person(person.full_name, person.address, person.email, person.identity_document, person.phone)
        annotate(case_id=request.case_id, case_stage=request.stage, office_id=office.id,
                 referral_id=request.referral_id, referral_service=request.service)
        data, fields = payload_for(request.intake, office)
        message = ReferralMessage(
            referral_id=request.referral_id, case_id=request.case_id, service=request.service, stage=request.stage,
            due_by=request.due_by, mandated_by=request.mandated_by, data=data,
            callback_url=f"{self.callback_base_url}/v1/agencies/{office.id}/events",
        )
        await self._call(office, self._adapter(office).deliver_referral(office, message))
        activity.logger.info("referral_sent", extra={"office": office.id, "referral_id": request.referral_id,
                                                     "fields": len(fields), "attempt": activity.info().attempt})
        return DeliveryReceipt(office=office.id, fields=fields, delivered_at=datetime.now(UTC))

    @activity.defn(name=m.DELIVER_NOTICE_ACTIVITY)
    async def deliver_notice(self, notice: Notice) -> NoticeReceipt:
        office = (self.registry.offices.get(notice.office) if notice.office else
                  self.registry.route(notice.kind or "gugus_tugas", notice.province, notice.regency,
                                      level=notice.level))
        if office is None:
            return NoticeReceipt(office=None, undeliverable=f"no {notice.kind} office covers {notice.province}")
        annotate(case_id=notice.case_id, office_id=office.id, notice_purpose=notice.purpose, rule_id=notice.clock)
        message = NoticeMessage(notice_id=notice.notice_id, case_id=notice.case_id, purpose=notice.purpose,
                                text=notice.text, clock=notice.clock, source=notice.source, rung=notice.rung)
        await self._call(office, self._adapter(office).deliver_notice(office, message))
        activity.logger.info("notice_sent", extra={"office": office.id, "notice_id": notice.notice_id,
                                                   "purpose": notice.purpose, "rule": notice.clock})
        return NoticeReceipt(office=office.id, delivered_at=datetime.now(UTC))


# A call still waiting on its agency after this long heartbeats, so that a worker killed mid-call is
# noticed within the workflow's heartbeat timeout (10 s) rather than the whole call timeout (30 s). Most
# calls end sooner and send no heartbeat at all: the server (the bottleneck, bench/RESULTS.md) sees
# nothing more.
HEARTBEAT_EVERY = 2.0


async def _with_heartbeats(delivery) -> None:
    """Translate adapter errors into Temporal's retry semantics at this one edge, heartbeating meanwhile
    (a local activity, a notice's first try, lives inside its workflow task and has no heartbeat)."""
    beating = None if activity.info().is_local else asyncio.create_task(_heartbeat())
    try:
        await delivery
    except AgencyRejected as exc:
        raise ApplicationError(exc.reason, {"status": exc.status}, type=m.Errors.AGENCY_REJECTED,
                               non_retryable=True) from exc
    except AgencyUnavailable as exc:
        raise ApplicationError(str(exc), type=m.Errors.AGENCY_UNAVAILABLE) from exc
    finally:
        if beating is not None:
            beating.cancel()


async def _heartbeat() -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY)
        activity.heartbeat()
