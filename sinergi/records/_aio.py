"""The case record for asyncio code (the worker's activities): each call runs in a thread.

Why threads and not SQLAlchemy's asyncio extension: every record call is one short transaction, and the
same synchronous code then serves the worker, the CLI's reports and Alembic's migrations (which are
synchronous anyway), on SQLite's standard-library driver and psycopg alike — no second driver (aiosqlite,
asyncpg) to install and keep in step. `asyncio.to_thread` keeps the event loop free while a write waits on the
database; the engine's pool bounds how many run at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sinergi.domain.intake import Intake
from sinergi.records._facts import Fact
from sinergi.records._store import ERASURE_BASIS, CaseRecord, Erased, Written


class AsyncCaseRecord:
    """`CaseRecord`'s methods, awaitable."""

    def __init__(self, record: CaseRecord) -> None:
        self.record = record

    async def write(self, facts: Iterable[Fact]) -> Written:
        return await asyncio.to_thread(self.record.write, list(facts))

    async def erase(self, case_id: str, *, requested_by: str, basis: str = ERASURE_BASIS,
                    at: datetime | None = None) -> Erased:
        return await asyncio.to_thread(self.record.erase, case_id, requested_by=requested_by, basis=basis, at=at)

    async def personal(self, case_id: str) -> dict[str, dict[str, Any]]:
        return await asyncio.to_thread(self.record.personal, case_id)

    async def intake(self, case_id: str) -> Intake | None:
        return await asyncio.to_thread(self.record.intake, case_id)

    async def close(self) -> None:
        await asyncio.to_thread(self.record.close)
