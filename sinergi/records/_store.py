"""The case record: writes facts exactly once, keeps personal data sealed per case, and erases it on request.

Exactly once: every row is inserted with ON CONFLICT DO NOTHING on its fact id, in one transaction per
`write`, so a batch is recorded whole or not at all. A worker killed mid-write leaves nothing half-written;
its retry, or a replay of the workflow, writes the same ids again and adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from sinergi.domain.intake import Intake
from sinergi.platform.config import Settings
from sinergi.records import _schema as t
from sinergi.records._engine import WRITES, create_engine, records_url
from sinergi.records._errors import KeyUnavailable, PersonalDataErased, RecordError, RecordUnavailable
from sinergi.records._facts import CaseOpened, Fact, StageChanged
from sinergi.records._keys import CaseKeys, seal, unseal
from sinergi.records._migrate import check_schema, migrate

ERASURE_BASIS = "data subject's request (UU 27/2022 Art. 8)"
_INSERT: dict[str, Callable[[sa.Table], sqlite.Insert | postgresql.Insert]] = {
    "sqlite": sqlite.insert, "postgresql": postgresql.insert}


class Written(BaseModel):
    """What one `write` did: facts new to the record, facts it already held, personal parts not kept."""

    written: int = 0
    duplicates: int = 0
    # Sealed parts of facts of an erased case: never stored, so an erased person cannot come back.
    sealed_dropped: int = 0


class Erased(BaseModel):
    """What `erase` did. `already` is True when the case had been erased before (`at` is that first time)."""

    case_id: str
    at: datetime
    personal_items_deleted: int
    already: bool


class CaseRecord:
    """The case record at one database. Thread-safe; every method is one short transaction."""

    def __init__(self, engine: Engine, keys: CaseKeys | None = None) -> None:
        self.engine = engine
        self._keys = keys
        self._insert = _INSERT[engine.dialect.name]

    @classmethod
    def open(cls, url: str, keys: CaseKeys | None = None, *, migrate_schema: bool = False) -> CaseRecord:
        """The record at `url`, migrated first if `migrate_schema`, else `SchemaOutOfDate` unless current.

        Without `keys` the record still writes and reads every report-facing fact; sealing or reading
        personal data then raises `KeyUnavailable`.
        """
        engine = create_engine(url)
        try:
            if migrate_schema:
                migrate(engine)
            else:
                check_schema(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, keys)

    @classmethod
    def from_settings(cls, settings: Settings, *, migrate_schema: bool = False) -> CaseRecord:
        """The record of `[records] url`, sealing with the keys of `[codec]`."""
        return cls.open(records_url(settings), CaseKeys.from_settings(settings.codec), migrate_schema=migrate_schema)

    def close(self) -> None:
        self.engine.dispose()

    def write(self, facts: Iterable[Fact]) -> Written:
        """Record `facts` (and the facts they imply), each exactly once, in one transaction."""
        unique: dict[str, Fact] = {}
        for fact in facts:
            for one in (fact, *fact.derived()):
                unique.setdefault(f"{one.table}:{one.fact_id}", one)
        if not unique:
            return Written()
        rows: dict[str, list[dict[str, Any]]] = {}
        for fact in unique.values():
            if fact.table is not None:
                rows.setdefault(fact.table, []).append(fact.row())
        result = Written()
        with self._connection(writes=True) as conn:
            # Always in the same order (table, then key): two PostgreSQL writers of overlapping batches then
            # wait for each other's rows in turn instead of deadlocking.
            for name, table_rows in sorted(rows.items()):
                key = t.TABLES[name].primary_key.columns.values()[0].name
                table_rows.sort(key=lambda row: row[key])
                inserted = self._insert_new(conn, t.TABLES[name], table_rows)
                result.written += inserted
                result.duplicates += len(table_rows) - inserted
            result.sealed_dropped = self._seal(conn, [f for f in unique.values() if f.sealed is not None])
            staged = {f.case_id for f in unique.values() if isinstance(f, CaseOpened | StageChanged)}
            for case_id in sorted(staged):
                _project_stage(conn, case_id)
        return result

    def erase(self, case_id: str, *, requested_by: str, basis: str = ERASURE_BASIS,
              at: datetime | None = None) -> Erased:
        """Erase the case's personal data for good: its data key and sealed items are deleted, a tombstone kept.

        Report-facing facts stay (they hold no personal data); an erasure fact records who asked, why, when.
        Erasing again changes nothing and says so.
        """
        at = at or datetime.now(UTC)
        with self._connection(writes=True) as conn:
            previous = conn.execute(sa.select(t.erasures.c.at).where(t.erasures.c.case_id == case_id)).scalar()
            conn.execute(self._insert(t.case_keys).on_conflict_do_nothing(index_elements=["case_id"]),
                         {"case_id": case_id, "created_at": at})
            # The tombstone: no key, and `erased_at`, which stops any later write from making a new key.
            conn.execute(sa.update(t.case_keys)
                         .where(t.case_keys.c.case_id == case_id, t.case_keys.c.erased_at.is_(None))
                         .values(key_id=None, wrapped=None, erased_at=at))
            deleted = conn.execute(sa.delete(t.personal_items).where(t.personal_items.c.case_id == case_id))
            self._insert_new(conn, t.erasures, [{"fact_id": f"{case_id}/erasure", "case_id": case_id, "at": at,
                                                 "requested_by": requested_by, "basis": basis}])
        return Erased(case_id=case_id, at=previous or at, personal_items_deleted=deleted.rowcount,
                      already=previous is not None)

    def personal(self, case_id: str) -> dict[str, dict[str, Any]]:
        """The case's personal items, opened: fact id -> its sealed part (`{}` when it has none).

        `PersonalDataErased` once erased; `KeyUnavailable` without the codec key the case's key was wrapped with.
        """
        with self._connection() as conn:
            data_key = self._data_key(conn, case_id, create=False)
            if data_key is None:
                return {}
            items = conn.execute(sa.select(t.personal_items.c.item_id, t.personal_items.c.sealed)
                                 .where(t.personal_items.c.case_id == case_id)).all()
        return {item_id: json.loads(unseal(data_key, case_id, item_id, sealed)) for item_id, sealed in items}

    def intake(self, case_id: str) -> Intake | None:
        """The case's intake as it was opened (from `CaseOpened`'s sealed part); None if not recorded."""
        sealed = self.personal(case_id).get(case_id)
        return None if sealed is None else Intake.model_validate(sealed["intake"])

    def _insert_new(self, conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> int:
        """Insert the rows not yet there; how many were new."""
        key = table.primary_key.columns.values()[0]
        statement = self._insert(table).on_conflict_do_nothing(index_elements=[key.name]).returning(key)
        return len(conn.execute(statement, rows).all())

    def _seal(self, conn: sa.Connection, facts: list[Fact]) -> int:
        """Store the sealed parts of `facts`; how many were dropped because their case was erased."""
        dropped = 0
        by_case: dict[str, list[Fact]] = {}
        for fact in facts:
            by_case.setdefault(fact.case_id, []).append(fact)
        for case_id, case_facts in sorted(by_case.items()):
            data_key = self._data_key(conn, case_id, create=True)
            if data_key is None:
                dropped += len(case_facts)
                continue
            self._insert_new(conn, t.personal_items, [
                {"item_id": f.fact_id, "case_id": case_id, "source": f.table or "notes",
                 "sealed": seal(data_key, case_id, f.fact_id, json.dumps(f.sealed, sort_keys=True).encode())}
                for f in case_facts
            ])
        return dropped

    def _data_key(self, conn: sa.Connection, case_id: str, *, create: bool) -> bytes | None:
        """The case's data key, made if `create` and it has none. None: erased (when writing) or never made."""
        if self._keys is None:
            raise KeyUnavailable(f"case {case_id}: this process was given no codec keys to open personal data")
        query = sa.select(t.case_keys).where(t.case_keys.c.case_id == case_id)
        row = conn.execute(query).first()
        if row is None and create:
            key_id, wrapped, _ = self._keys.new_data_key(case_id)
            # Two writers may both make a key: the first stored wins and both seal with it (read back below).
            conn.execute(self._insert(t.case_keys).on_conflict_do_nothing(index_elements=["case_id"]),
                         {"case_id": case_id, "key_id": key_id, "wrapped": wrapped, "created_at": datetime.now(UTC)})
            row = conn.execute(query).first()
        if row is None:
            return None
        if row.erased_at is not None:
            if create:
                return None
            raise PersonalDataErased(case_id)
        return self._keys.unwrap(case_id, row.key_id, row.wrapped)

    @contextmanager
    def _connection(self, *, writes: bool = False) -> Iterator[sa.Connection]:
        """A connection in a transaction (committed on success); database failures become `RecordError`s."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{WRITES: writes})
                with conn.begin():
                    yield conn
        except sa.exc.OperationalError as exc:
            raise RecordUnavailable(f"the case record is unavailable: {exc.orig}") from exc
        except sa.exc.DBAPIError as exc:
            raise RecordError(f"the case record refused the operation: {exc.orig}") from exc


def _project_stage(conn: sa.Connection, case_id: str) -> None:
    """Set the case row's stage from its latest stage fact, in whatever order facts arrived."""
    s = t.stage_changes
    latest = conn.execute(sa.select(s.c.stage, s.c.at).where(s.c.case_id == case_id)
                          .order_by(s.c.at.desc(), s.c.seq.desc()).limit(1)).first()
    if latest is None:
        return
    conn.execute(sa.update(t.cases).where(t.cases.c.case_id == case_id).values(
        stage=latest.stage, stage_at=latest.at, closed_at=latest.at if latest.stage == "closed" else None))
