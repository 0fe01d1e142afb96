"""The case record's tables (SQLAlchemy Core), as this code expects them; `migrations/` builds them.

Every fact table is keyed by `fact_id` (`_facts.Fact.fact_id`) and written with INSERT … ON CONFLICT DO
NOTHING: a fact is there once or not at all. None of these tables holds a value of the victim except
`personal_items.sealed` and `case_keys.wrapped`, both ciphertext. Fact tables have no foreign keys: a back-fill
or a retried write may bring a case's facts before its opening fact, and the record must take them in any order.
docs/records.md describes every column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
})

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
Json = sa.JSON().with_variant(JSONB(), "postgresql")


class Time(sa.TypeDecorator):
    """A timestamp stored in UTC and read back aware, on SQLite too (which keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("the case record stores aware timestamps only")
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value



def _recorded_at() -> sa.Column:
    return sa.Column("recorded_at", Time, nullable=False, server_default=sa.func.current_timestamp())


def _fact_table(name: str, *columns: sa.Column | sa.Index) -> sa.Table:
    return sa.Table(
        name, metadata,
        sa.Column("fact_id", sa.String, primary_key=True),
        sa.Column("case_id", sa.String, nullable=False, index=True),
        *columns,
        _recorded_at(),
    )


cases = sa.Table(
    "cases", metadata,
    sa.Column("case_id", sa.String, primary_key=True),
    sa.Column("opened_at", Time, nullable=False, index=True),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("province", sa.String, nullable=False, index=True),
    sa.Column("regency_code", sa.String),
    sa.Column("regency_name", sa.String),
    sa.Column("is_child", sa.Boolean, nullable=False),
    sa.Column("gender", sa.String),
    sa.Column("age_at_intake", sa.Integer),
    sa.Column("age_is_estimate", sa.Boolean, nullable=False),
    sa.Column("citizenship", sa.String),
    sa.Column("country_of_exploitation", sa.String, nullable=False),
    sa.Column("exploitation", Json, nullable=False),
    sa.Column("means_of_control", Json, nullable=False),
    sa.Column("is_pmi", sa.Boolean, nullable=False),
    sa.Column("procedural", sa.Boolean),
    sa.Column("recruiter_relation", sa.String),  # (0005)
    sa.Column("source_agency", sa.String),
    sa.Column("source_channel", sa.String),
    sa.Column("rules_version", sa.Integer),
    # A projection of `stage_changes`, recomputed whenever a stage fact of the case is written.
    sa.Column("stage", sa.String),
    sa.Column("stage_at", Time),
    sa.Column("closed_at", Time),
    _recorded_at(),
)

stage_changes = _fact_table(
    "stage_changes",
    sa.Column("stage", sa.String, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),  # orders changes made at the same instant
)

events = _fact_table(
    "events",
    sa.Column("sender", sa.String, nullable=False),
    sa.Column("event_id", sa.String, nullable=False),
    sa.Column("type", sa.String, nullable=False),
    sa.Column("occurred_at", Time, nullable=False),
    sa.Column("applied_at", Time, nullable=False),
    sa.Column("entered_by", sa.String),  # `operator:<name>` who typed an office's event for it (0003)
)

referral_steps = _fact_table(
    "referral_steps",
    sa.Column("referral_id", sa.String, nullable=False),
    sa.Column("service", sa.String, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("office", sa.String, index=True),
    sa.Column("state", sa.String, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("due_at", Time),
    sa.Column("mandated_by", sa.String),
    sa.Column("reason_code", sa.String),  # a decline's coded reason (0004)
)

deliveries = _fact_table(
    "deliveries",
    sa.Column("office", sa.String, nullable=False),
    sa.Column("fields", Json, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("how", sa.String, nullable=False),
    sa.Column("ref", sa.String, nullable=False),
    sa.Column("purpose", sa.String),
    sa.Column("mandated_by", sa.String),
)

page_unlocks = _fact_table(
    "page_unlocks",
    sa.Column("referral_id", sa.String, nullable=False),
    sa.Column("office", sa.String, nullable=False),
    sa.Column("fields", Json, nullable=False),
    sa.Column("at", Time, nullable=False),
)

notices = _fact_table(
    "notices",
    sa.Column("notice_id", sa.String, nullable=False),
    sa.Column("purpose", sa.String, nullable=False),
    sa.Column("office", sa.String),
    sa.Column("kind", sa.String),
    sa.Column("level", sa.String, nullable=False),
    sa.Column("province", sa.String, nullable=False),
    sa.Column("regency", sa.String),
    sa.Column("clock", sa.String),
    sa.Column("source", sa.String),
    sa.Column("rung", sa.Integer),
    sa.Column("at", Time, nullable=False),
)

clock_events = _fact_table(
    "clock_events",
    sa.Column("clock_id", sa.String, nullable=False),
    sa.Column("rule", sa.String, nullable=False, index=True),
    sa.Column("change", sa.String, nullable=False),
    sa.Column("at", Time, nullable=False),
    sa.Column("due_at", Time),
    sa.Column("source", sa.String),
    sa.Column("rung", sa.Integer),
    sa.Column("office", sa.String),
    sa.Column("level", sa.String),
    sa.Column("role", sa.String),
    sa.Column("context", sa.String),
)

manual_tasks = _fact_table(
    "manual_tasks",
    sa.Column("task_id", sa.String, nullable=False),
    sa.Column("state", sa.String, nullable=False),
    sa.Column("agency", sa.String, nullable=False),
    sa.Column("referral_id", sa.String),
    sa.Column("at", Time, nullable=False),
)

decode_audits = _fact_table(
    "decode_audits",
    sa.Column("audit_id", sa.String, nullable=False),
    sa.Column("workflow_id", sa.String, nullable=False),
    sa.Column("who", sa.String, nullable=False),
    sa.Column("role", sa.String, nullable=False),
    sa.Column("masked", sa.Boolean, nullable=False),
    sa.Column("fields", Json, nullable=False),
    sa.Column("at", Time, nullable=False),
)

erasures = _fact_table(
    "erasures",
    sa.Column("at", Time, nullable=False),
    sa.Column("requested_by", sa.String, nullable=False),
    sa.Column("basis", sa.String, nullable=False),
)

# One row per case that ever had personal data: its data key, wrapped. Erasing the case empties `wrapped`
# and sets `erased_at`, and the row stays as a tombstone, so a late or replayed write can never give the
# case a new key and bring its personal data back.
case_keys = sa.Table(
    "case_keys", metadata,
    sa.Column("case_id", sa.String, primary_key=True),
    sa.Column("key_id", sa.String),
    sa.Column("wrapped", sa.LargeBinary),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("erased_at", Time),
)

# The personal part of a fact (`Fact.sealed`), keyed by that fact's id and sealed with the case's data key.
personal_items = sa.Table(
    "personal_items", metadata,
    sa.Column("item_id", sa.String, primary_key=True),
    sa.Column("case_id", sa.String, nullable=False, index=True),
    sa.Column("source", sa.String, nullable=False),
    sa.Column("sealed", sa.LargeBinary, nullable=False),
    _recorded_at(),
)

# Named operators (issue 24): who may enter events and decode, in which role. Only a hash of each token is kept
# (tokens are 256 random bits, so a plain SHA-256 suffices; a stolen table yields no usable token). A revoked
# operator's row stays, so the name an event recorded always points at one person and is never given again.
operators = sa.Table(
    "operators", metadata,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("role", sa.String, nullable=False),
    sa.Column("token_hash", sa.String, nullable=False, unique=True),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("created_by", sa.String, nullable=False),
    sa.Column("rotated_at", Time),
    sa.Column("revoked_at", Time),
    sa.Column("revoked_by", sa.String),
)

TABLES = {table.name: table for table in metadata.sorted_tables}
