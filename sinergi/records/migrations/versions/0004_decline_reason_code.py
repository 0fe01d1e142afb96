"""A decline's coded reason (`referral.declined` `reason_code`): `referral_steps.reason_code`, which `report offices`
counts by (its `decline_reasons`).

Revision ID: 0004
Revises: 0003
A released revision is frozen: change the schema with a new revision, never by editing this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral_steps") as batch:  # SQLite alters a table by copying it
        batch.add_column(sa.Column("reason_code", sa.String))


def downgrade() -> None:
    with op.batch_alter_table("referral_steps") as batch:
        batch.drop_column("reason_code")
