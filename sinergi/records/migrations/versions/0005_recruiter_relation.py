"""Who recruited the victim, by relation (intake `situation.recruiter_relation`): `cases.recruiter_relation`, which
the CTDC export's recruiter-relation columns come from.

Revision ID: 0005
Revises: 0004
A released revision is frozen: change the schema with a new revision, never by editing this one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:  # SQLite alters a table by copying it
        batch.add_column(sa.Column("recruiter_relation", sa.String))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("recruiter_relation")
