"""The case record: cases, their facts, per-case data keys and sealed personal items (issue 22).

Revision ID: 0001
Revises: —
A released revision is frozen: change the schema with a new revision, never by editing this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TIME = sa.DateTime(timezone=True)


def _recorded_at() -> sa.Column:
    return sa.Column("recorded_at", TIME, nullable=False, server_default=sa.func.current_timestamp())


def _fact_table(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("fact_id", sa.String, nullable=False),
        sa.Column("case_id", sa.String, nullable=False),
        *columns,
        _recorded_at(),
        sa.PrimaryKeyConstraint("fact_id", name=f"pk_{name}"),
    )
    op.create_index(f"ix_{name}_case_id", name, ["case_id"])


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String, nullable=False),
        sa.Column("opened_at", TIME, nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("province", sa.String, nullable=False),
        sa.Column("regency_code", sa.String),
        sa.Column("regency_name", sa.String),
        sa.Column("is_child", sa.Boolean, nullable=False),
        sa.Column("gender", sa.String),
        sa.Column("age_at_intake", sa.Integer),
        sa.Column("age_is_estimate", sa.Boolean, nullable=False),
        sa.Column("citizenship", sa.String),
        sa.Column("country_of_exploitation", sa.String, nullable=False),
        sa.Column("exploitation", JSON, nullable=False),
        sa.Column("means_of_control", JSON, nullable=False),
        sa.Column("is_pmi", sa.Boolean, nullable=False),
        sa.Column("procedural", sa.Boolean),
        sa.Column("source_agency", sa.String),
        sa.Column("source_channel", sa.String),
        sa.Column("rules_version", sa.Integer),
        sa.Column("stage", sa.String),
        sa.Column("stage_at", TIME),
        sa.Column("closed_at", TIME),
        _recorded_at(),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
    )
    op.create_index("ix_cases_opened_at", "cases", ["opened_at"])
    op.create_index("ix_cases_province", "cases", ["province"])

    _fact_table(
        "stage_changes",
        sa.Column("stage", sa.String, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
    )
    _fact_table(
        "events",
        sa.Column("sender", sa.String, nullable=False),
        sa.Column("event_id", sa.String, nullable=False),
        sa.Column("type", sa.String, nullable=False),
        sa.Column("occurred_at", TIME, nullable=False),
        sa.Column("applied_at", TIME, nullable=False),
    )
    _fact_table(
        "referral_steps",
        sa.Column("referral_id", sa.String, nullable=False),
        sa.Column("service", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("office", sa.String),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("due_at", TIME),
        sa.Column("mandated_by", sa.String),
    )
    op.create_index("ix_referral_steps_office", "referral_steps", ["office"])
    _fact_table(
        "deliveries",
        sa.Column("office", sa.String, nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("how", sa.String, nullable=False),
        sa.Column("ref", sa.String, nullable=False),
        sa.Column("purpose", sa.String),
        sa.Column("mandated_by", sa.String),
    )
    _fact_table(
        "page_unlocks",
        sa.Column("referral_id", sa.String, nullable=False),
        sa.Column("office", sa.String, nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("at", TIME, nullable=False),
    )
    _fact_table(
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
        sa.Column("at", TIME, nullable=False),
    )
    _fact_table(
        "clock_events",
        sa.Column("clock_id", sa.String, nullable=False),
        sa.Column("rule", sa.String, nullable=False),
        sa.Column("change", sa.String, nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("due_at", TIME),
        sa.Column("source", sa.String),
        sa.Column("rung", sa.Integer),
        sa.Column("office", sa.String),
        sa.Column("level", sa.String),
        sa.Column("role", sa.String),
        sa.Column("context", sa.String),
    )
    op.create_index("ix_clock_events_rule", "clock_events", ["rule"])
    _fact_table(
        "manual_tasks",
        sa.Column("task_id", sa.String, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("agency", sa.String, nullable=False),
        sa.Column("referral_id", sa.String),
        sa.Column("at", TIME, nullable=False),
    )
    _fact_table(
        "decode_audits",
        sa.Column("audit_id", sa.String, nullable=False),
        sa.Column("workflow_id", sa.String, nullable=False),
        sa.Column("who", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("masked", sa.Boolean, nullable=False),
        sa.Column("fields", JSON, nullable=False),
        sa.Column("at", TIME, nullable=False),
    )
    _fact_table(
        "erasures",
        sa.Column("at", TIME, nullable=False),
        sa.Column("requested_by", sa.String, nullable=False),
        sa.Column("basis", sa.String, nullable=False),
    )
    op.create_table(
        "case_keys",
        sa.Column("case_id", sa.String, nullable=False),
        sa.Column("key_id", sa.String),
        sa.Column("wrapped", sa.LargeBinary),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("erased_at", TIME),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_keys"),
    )
    op.create_table(
        "personal_items",
        sa.Column("item_id", sa.String, nullable=False),
        sa.Column("case_id", sa.String, nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        _recorded_at(),
        sa.PrimaryKeyConstraint("item_id", name="pk_personal_items"),
    )
    op.create_index("ix_personal_items_case_id", "personal_items", ["case_id"])


def downgrade() -> None:
    for table in ("personal_items", "case_keys", "erasures", "decode_audits", "manual_tasks", "clock_events",
                  "notices", "page_unlocks", "deliveries", "referral_steps", "events", "stage_changes", "cases"):
        op.drop_table(table)
