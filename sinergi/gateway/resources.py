"""What the gateway's handlers share, stored on the application under typed keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import structlog
from aiohttp import web
from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.converter import PayloadCodec
from temporalio.service import RPCError

from sinergi.cases import Cases, ServiceUnavailable
from sinergi.gateway.auth import Verifiers
from sinergi.platform.config import GatewaySettings

if TYPE_CHECKING:  # the page module imports this one
    from sinergi.gateway.referral_page import ReferralPages

log = structlog.get_logger("sinergi.gateway")

# How long a readiness answer is reused: probes (every replica, every few seconds) then cost the server
# at most two or three task-queue descriptions per queue and period, however many probes ask.
READY_CACHE_SECONDS = 5.0
# A live worker polls again at least every minute (the server ends an idle long poll after ~60 s, and its
# `last_access_time` is when the poll began); the server forgets a stopped worker only after 5 minutes.
# A poller not seen for two minutes (one missed poll, plus clock skew) is taken to be gone.
POLLER_FRESH_SECONDS = 120.0

QueueType = Literal["workflow", "activity"]
_TYPES: dict[QueueType, TaskQueueType.ValueType] = {"workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                                                     "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY}


class NotConnected(ServiceUnavailable):
    """The gateway has not reached Temporal yet: nothing was sent, so the event was certainly not applied."""

    may_still_apply = False


@dataclass(frozen=True)
class Readiness:
    """What `/readyz` reports of Temporal: reachable, and the task queues (and types) no worker polls."""

    reachable: bool
    unpolled: tuple[tuple[str, QueueType], ...] = ()


class TemporalLink:
    """The gateway's way to the cases.

    Built from a connect function, it connects in the background (`keep_connecting`), so the gateway
    starts — and answers 503 — while Temporal is still down; built with `TemporalLink.to(cases)` it is
    connected from the start.
    """

    def __init__(self, connect: Callable[[], Awaitable[Cases]], retry_seconds: float = 1.0,
                 max_retry_seconds: float = 10.0) -> None:
        self._connect = connect
        self._retry_seconds = retry_seconds
        self._max_retry_seconds = max_retry_seconds
        self._cases: Cases | None = None
        self._ready: tuple[float, Readiness] | None = None  # (when asked, answer): see READY_CACHE_SECONDS
        self._asking = asyncio.Lock()  # concurrent probes wait for one question rather than each asking

    @classmethod
    def to(cls, cases: Cases) -> TemporalLink:
        async def connected() -> Cases:
            return cases

        link = cls(connected)
        link._cases = cases
        return link

    @property
    def cases(self) -> Cases:
        """The connected cases; `ServiceUnavailable` until the first connection succeeded."""
        if self._cases is None:
            raise NotConnected("not connected to Temporal yet")
        return self._cases

    async def keep_connecting(self) -> None:
        """Try to connect until it works (the SDK's client reconnects on its own afterwards)."""
        wait = self._retry_seconds
        while self._cases is None:
            try:
                self._cases = await self._connect()
            except RuntimeError as exc:  # the SDK's "Failed client connect"
                log.warning("temporal_unreachable", error=str(exc), retry_in_s=wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, self._max_retry_seconds)
            except Exception as exc:  # noqa: BLE001 - e.g. an unreadable TLS file: retrying cannot help
                log.error("temporal_connect_failed", error=str(exc), effect="events get 503 until restarted")
                return
        log.info("temporal_connected")

    async def reachable(self, timeout: float = 2.0) -> bool:
        if self._cases is None:
            return False
        try:
            return await self._cases.client.service_client.check_health(timeout=timedelta(seconds=timeout))
        except (RPCError, RuntimeError):
            return False


    async def readiness(self, agency_queues: Sequence[str] = (), timeout: float = 2.0) -> Readiness:
        """Reachable, and which queues no worker polls: the case queue (workflow and activity tasks) and
        `agency_queues` (activity tasks). Asked of the server at most once per `READY_CACHE_SECONDS`."""
        if self._cases is None:
            return Readiness(reachable=False)
        async with self._asking:
            now = asyncio.get_running_loop().time()
            if self._ready is not None and now - self._ready[0] < READY_CACHE_SECONDS:
                return self._ready[1]
            answer = await self._ask(self._cases, agency_queues, timeout)
            self._ready = (asyncio.get_running_loop().time(), answer)
            return answer

    async def _ask(self, cases: Cases, agency_queues: Sequence[str], timeout: float) -> Readiness:
        if not await self.reachable(timeout):
            return Readiness(reachable=False)
        wanted: list[tuple[str, QueueType]] = [(cases.task_queue, "workflow"), (cases.task_queue, "activity"),
                                               *((queue, "activity") for queue in agency_queues)]
        try:
            polled = await asyncio.gather(*(self._polled(cases, queue, kind, timeout) for queue, kind in wanted))
        except RPCError as exc:
            log.warning("task_queue_describe_failed", error=exc.message, status=exc.status.name)
            return Readiness(reachable=False)
        return Readiness(reachable=True, unpolled=tuple(q for q, ok in zip(wanted, polled, strict=True) if not ok))

    @staticmethod
    async def _polled(cases: Cases, queue: str, kind: QueueType, timeout: float) -> bool:
        request = DescribeTaskQueueRequest(
            namespace=cases.client.namespace, task_queue_type=_TYPES[kind],
            task_queue=TaskQueue(name=queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL))
        described = await cases.client.workflow_service.describe_task_queue(request,
                                                                           timeout=timedelta(seconds=timeout))
        fresh_after = datetime.now(UTC) - timedelta(seconds=POLLER_FRESH_SECONDS)
        return any(p.last_access_time.ToDatetime(tzinfo=UTC) >= fresh_after for p in described.pollers)


class CaseLanes:
    """At most `width` requests at a time per case; the rest wait their turn in arrival order."""

    def __init__(self, width: int) -> None:
        self._width = width
        self._lanes: dict[str, tuple[asyncio.Semaphore, int]] = {}

    @asynccontextmanager
    async def hold(self, case_id: str) -> AsyncIterator[None]:
        semaphore, users = self._lanes.get(case_id) or (asyncio.Semaphore(self._width), 0)
        self._lanes[case_id] = (semaphore, users + 1)
        try:
            async with semaphore:
                yield
        finally:
            semaphore, users = self._lanes[case_id]
            if users == 1:
                del self._lanes[case_id]  # no one waits: forget the case, so the table stays small
            else:
                self._lanes[case_id] = (semaphore, users - 1)


@dataclass(frozen=True)
class Resources:
    """Opened once per process (see `sinergi.gateway.serve.open_resources`); tests build their own."""

    verifiers: Verifiers
    temporal: TemporalLink
    codec: PayloadCodec
    codec_token: str | None
    namespace: str
    # The agency kinds' task queues `/readyz` checks too: only where agency calls run on them
    # (`[temporal] agency_rate_limit`); else they run on the case's own queue.
    agency_queues: tuple[str, ...] = ()
    # The referral page's registry, token verifier, passcodes and lock counts (`referral_page.ReferralPages`);
    # None: not configured, every `/r/...` link answers 404.
    referral_pages: ReferralPages | None = None
    # The case record (an `AsyncCaseRecord`) every decode of a case's history is audited in; None: not audited
    # (tests that build their own resources).
    record: Any | None = None
    # The identity provider's token verifier (`oidc.OidcVerifier`), when `[auth] issuer` is set.
    oidc: Any | None = None
    # The policy this deployment opens cases under (`[policy] file`): a laptop's new case is sealed only under it
    # (`stamping.stamp`). None: not checked (tests that build their own resources).
    policy: Any | None = None
    # Who a bearer token names (`identities.Identities`): built from `codec_token`, `record` and `oidc`.
    identities: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from sinergi.gateway.identities import Identities

        object.__setattr__(self, "identities", Identities(record=self.record, shared_token=self.codec_token,
                                                          oidc=self.oidc))


SETTINGS = web.AppKey("settings", GatewaySettings)
RESOURCES = web.AppKey("resources", Resources)
OPENAPI = web.AppKey("openapi", dict[str, Any])
LANES = web.AppKey("lanes", CaseLanes)
