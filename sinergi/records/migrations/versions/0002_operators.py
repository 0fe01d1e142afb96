"""Named operators: who may enter events and decode, in which role, by a hashed token (issue 24).

Revision ID: 0002
Revises: 0001
A released revision is frozen: change the schema with a new revision, never by editing this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("name", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("token_hash", sa.String, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("created_by", sa.String, nullable=False),
        sa.Column("rotated_at", TIME),
        sa.Column("revoked_at", TIME),
        sa.Column("revoked_by", sa.String),
        sa.PrimaryKeyConstraint("name", name="pk_operators"),
        sa.UniqueConstraint("token_hash", name="uq_operators_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("operators")
