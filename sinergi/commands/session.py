"""Connecting a command to Temporal, once per command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sinergi.cases import Cases, ServiceUnavailable
from sinergi.config import Settings
from sinergi.domain.policy import load_policy
from sinergi.temporal import connect


@asynccontextmanager
async def cases_for(settings: Settings) -> AsyncIterator[Cases]:
    policy = load_policy(settings.policy.file)
    try:
        client = await connect(settings)
    except RuntimeError as exc:
        raise ServiceUnavailable(f"cannot reach Temporal at {settings.temporal.address}: {exc}") from exc
    yield Cases(client, settings.temporal.task_queue, policy)
