"""Who typed an office's event for it (`case event --as`): `events.entered_by`, `operator:<name>`.

Revision ID: 0003
Revises: 0002
A released revision is frozen: change the schema with a new revision, never by editing this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:  # SQLite alters a table by copying it
        batch.add_column(sa.Column("entered_by", sa.String))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("entered_by")
