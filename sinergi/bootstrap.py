"""The composition root: the one place that builds sinergi's parts from the settings.

The worker (`sinergi worker`, `sinergi dev`), the gateway and the CLI each call it; tests build their own
pieces from the same parts (`sinergi.testing`). Nothing else reads the settings to assemble something.

Each part is imported by the function that builds it: a CLI command that only talks to Temporal
(`connect_cases`) loads neither the web stack, the adapters nor the workflows (issue 23: every call of the
CLI pays for its imports).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sinergi.platform.config import BUILTIN_AGENCIES, EmailSettings, Settings

if TYPE_CHECKING:
    from sinergi.activities.agencies import AgencyActivities
    from sinergi.adapters.base import AgencyAdapter
    from sinergi.cases import Cases
    from sinergi.domain.agencies import AgencyRegistry, Office
    from sinergi.domain.policy import Policy
    from sinergi.gateway.auth import InboundSecret
    from sinergi.gateway.referral_page import ReferralPages
    from sinergi.gateway.resources import Resources
    from sinergi.platform.versioning import WorkerVersion


def _log():
    from sinergi.platform.logs import get_logger

    return get_logger("sinergi.bootstrap")


def office_registry(settings: Settings) -> AgencyRegistry:
    """The agencies file in force; the shipped sandbox registry served where `[dev] sandbox_port` puts it."""
    from sinergi.agencies import load_registry

    loaded = load_registry(settings.agencies.file)
    if settings.agencies.file in BUILTIN_AGENCIES:
        loaded = loaded.served_at(settings.dev.sandbox_base_url)
    return loaded


def loopback_relay(settings: Settings) -> EmailSettings:
    """The mail catcher's address on this machine, `[dev] mail_port`: no TLS, no login."""
    return settings.email.model_copy(update={"host": "127.0.0.1", "port": settings.dev.mail_port,
                                             "security": "none", "username": None, "password_env": None})


def mail_relay(settings: Settings) -> EmailSettings:
    """`[email]` as configured; with the shipped sandbox registry and no relay, the sandbox's mail port on
    loopback (`sinergi sandbox` and `sinergi dev` catch it there), as its offices' base_url points at its port."""
    if settings.email.host is None and settings.agencies.file in BUILTIN_AGENCIES:
        return loopback_relay(settings)
    return settings.email


async def case_record(settings: Settings, *, migrate_schema: bool = True):
    """The case record (`[records] url`) as an `AsyncCaseRecord`, its schema brought up to date by default (the
    worker writes it; reports and reads open it without migrating)."""
    import asyncio

    from sinergi.records import AsyncCaseRecord, CaseRecord

    record = await asyncio.to_thread(CaseRecord.from_settings, settings, migrate_schema=migrate_schema)
    return AsyncCaseRecord(record)


def policy(settings: Settings) -> Policy:
    from sinergi.policies import load_policy

    return load_policy(settings.policy.file)


async def connect_cases(settings: Settings, policy_of: Policy | Callable[[], Policy] | None = None, *,
                        keys: bool = False, tracing: bool = True) -> Cases:
    """`Cases` on a new Temporal client; the policy new cases open under (by default read when the first opens).
    `keys`: the process holds the keys file (the gateway); else `[codec] endpoint`, if set, codes payloads.
    `tracing=False`: no tracing interceptor (a CLI call whose spans go nowhere; bench/RESULTS.md §11)."""
    from sinergi.cases import Cases
    from sinergi.platform.temporal import connect  # the Temporal client: only for the processes that talk to it

    return Cases(await connect(settings, keys=keys, tracing=tracing), settings.temporal.task_queue,
                 policy_of if policy_of is not None else (lambda: policy(settings)))


def worker_version(settings: Settings, *, dev: bool = False) -> WorkerVersion | None:
    """The Worker Deployment version the workers poll as (`[temporal] versioning`, `deployment_name`,
    `build_id`; None when versioning is off); for `build_workers(version=...)` and `run_workers(version=...)`.
    `dev`: `sinergi dev`, whose worker always makes its build current."""
    from sinergi.platform.versioning import worker_version as version_of

    return version_of(settings, dev=dev)


@asynccontextmanager
async def agency_activities(settings: Settings, registry: AgencyRegistry | None = None,
                            adapters: dict[str, AgencyAdapter] | None = None) -> AsyncIterator[AgencyActivities]:
    """The activities with their adapters; the process's one aiohttp session is closed on exit."""
    import aiohttp

    from sinergi.activities.agencies import AgencyActivities
    from sinergi.adapters.base import AdapterContext
    from sinergi.adapters.registry import build_adapters
    from sinergi.platform.secrets import DEV_SECRETS, ensure_dev_secrets
    from sinergi.platform.tracing import http_client_trace_configs

    # The shipped registry's offices are the sandbox agencies, wherever `[dev] sandbox_port` puts them.
    registry = registry or office_registry(settings)
    secrets_file = settings.dev.state_dir / DEV_SECRETS
    if settings.agencies.file in BUILTIN_AGENCIES:
        # The shipped (sandbox) registry: share generated office secrets with the sandbox and gateway.
        ensure_dev_secrets(secrets_file, registry.offices.values())
    # Traced: each agency request is a client span of its activity and carries the trace's `traceparent`.
    async with aiohttp.ClientSession(trace_configs=http_client_trace_configs()) as session:
        if adapters is None:
            context = AdapterContext(callback_base_url=settings.gateway.base_url, session=session,
                                     secrets_file=secrets_file, email=mail_relay(settings), codec=settings.codec)
            adapters = build_adapters(context, {o.adapter for o in registry.offices.values()})
        record = await case_record(settings)
        try:
            yield AgencyActivities(registry, adapters, settings.gateway.base_url,
                                   rate_limit=settings.temporal.agency_rate_limit,
                                   concurrency=settings.temporal.agency_concurrency, record=record)
        finally:
            for adapter in adapters.values():
                await adapter.close()
            await record.close()


@asynccontextmanager
async def gateway_resources(settings: Settings, cases: Cases | None = None) -> AsyncIterator[Resources]:
    """Load the registry, the codec keys and the secrets' sources; link to Temporal (given `cases`, or
    connecting in the background). Configuration errors raise here, before anything listens."""
    from sinergi.agencies import load_registry
    from sinergi.gateway.auth import Verifiers
    from sinergi.gateway.resources import Resources, TemporalLink
    from sinergi.platform.codec import codec_from_settings
    from sinergi.platform.secrets import DEV_SECRETS, office_secret
    from sinergi.workflows.case import agency_task_queue

    offices = load_registry(settings.agencies.file)
    codec = codec_from_settings(settings.codec)
    new_cases_policy = policy(settings)
    secrets_file = settings.dev.state_dir / DEV_SECRETS

    def inbound_secret(office: Office) -> str:
        return office_secret(office, "inbound", secrets_file=secrets_file)

    _warn_missing_secrets(offices, inbound_secret)
    token = os.environ.get(settings.gateway.codec_token_env) or None
    if token is None and not settings.auth.oidc:
        _log().info("codec_token_missing", env=settings.gateway.codec_token_env,
                    effect="/codec admits named operators' tokens only")

    temporal = TemporalLink.to(cases) if cases is not None else TemporalLink(
        lambda: connect_cases(settings, new_cases_policy, keys=True))
    # With a rate limit, each agency kind's calls wait on a queue of its own (AgencyActivities.dispatch):
    # readiness then needs a worker there too, for every kind an office of the registry has.
    agency_queues = tuple(agency_task_queue(settings.temporal.task_queue, kind)
                          for kind in sorted({o.kind for o in offices.offices.values()})
                          ) if settings.temporal.agency_rate_limit is not None else ()
    oidc = None
    if settings.auth.oidc:
        from sinergi.gateway.oidc import OidcVerifier

        oidc = OidcVerifier(settings.auth)  # the identity provider's tokens: the Temporal UI's signed-in users
    record = await case_record(settings)
    try:
        yield Resources(verifiers=Verifiers(offices, inbound_secret), temporal=temporal, codec=codec,
                        codec_token=token, namespace=settings.temporal.namespace, agency_queues=agency_queues,
                        referral_pages=referral_pages(settings, offices), record=record, oidc=oidc,
                        policy=new_cases_policy)
    finally:
        await record.close()


def referral_pages(settings: Settings, offices: AgencyRegistry) -> ReferralPages:
    """The referral page's parts: tokens and form keys from the `[codec]` keys (rotated with them), and each
    office's passcode as `office_passcode` finds it (its `passcode_env`, else the dev secrets file), read per
    unlock: a rotation (`sinergi admin passcode rotate`) needs no restart."""
    from sinergi.gateway.referral_page import ReferralPages, form_key_from
    from sinergi.platform.codec import load_keys
    from sinergi.platform.referral_tokens import ReferralTokens
    from sinergi.platform.secrets import DEV_SECRETS, MissingSecret, office_passcode

    keys = load_keys(settings.codec.keys_file)
    secrets_file = settings.dev.state_dir / DEV_SECRETS

    def passcode_of(office: Office) -> str | None:
        try:
            return office_passcode(office, secrets_file=secrets_file)
        except MissingSecret:
            return None  # the page says no passcode is set, and opens nothing

    return ReferralPages(registry=offices, tokens=ReferralTokens(keys, settings.codec.key_id),
                         passcode_of=passcode_of, form_key=form_key_from(keys[settings.codec.key_id]))


def _warn_missing_secrets(registry: AgencyRegistry, inbound_secret: InboundSecret) -> None:
    from sinergi.platform.secrets import MissingSecret

    missing = []
    for office in registry.offices.values():
        try:
            inbound_secret(office)
        except MissingSecret:
            missing.append(office.id)
    if missing:
        _log().warning("inbound_secrets_missing", offices=missing, effect="their events are refused with 401")


